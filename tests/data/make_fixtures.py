"""Writes the contacts fixtures in this folder: `python tests/data/make_fixtures.py`.

Each file reproduces one real-world export quirk; the bytes are written exactly (BOMs, CRLF,
encodings), so the generated files are committed beside this script.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent


def write(name: str, text: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(text.encode(encoding))


def main() -> None:
    # Excel "CSV UTF-8" in a European locale: BOM, semicolons, CRLF, a number mangled into
    # scientific notation, a quoted newline, a blank row, the header pasted again, a duplicate,
    # and an unquoted `;` inside a company name (a ragged row).
    write(
        "excel_bom_semicolon.csv",
        "\ufeffPhone Number;First Name;Company;Notes\r\n"
        "(415) 555-0123;Ana;Acme; Inc;\r\n"
        "4.15555E+10;Bo;Beta;\r\n"
        '\'+1 212 555 0100;Chloé;"Gamma; Ltd";"line one\r\nline two"\r\n'
        ";;;\r\n"
        "Phone Number;First Name;Company;Notes\r\n"
        "+1-415-555-0123;Ana again;Acme;dup\r\n"
        "tel:+442079460958; Dev ;Delta;\r\n"
        "n/a;Eve;Epsilon;\r\n"
        "+1 (212) 555-0100;Chloé twice;Gamma;\r\n",
    )
    # Windows-1252 (Excel "CSV" on Windows), with accented names and a "Mobile" header.
    write(
        "cp1252_accents.csv",
        "Name,Mobile,City\r\n"
        "José Müller,(646) 555-0199,São Paulo\r\n"
        "Zoë Ñúñez,646.555.0142,Köln\r\n"
        "Renée Dupré,,Besançon\r\n"
        "Œuvre Façade,+1 999 555 1234,Nîmes\r\n",
        encoding="cp1252",
    )
    # Excel "Unicode Text": UTF-16 with BOM, tab-separated, header "Telephone".
    write(
        "utf16_tab.csv",
        "Telephone\tFirst Name\tAmount\r\n"
        "0044 20 7946 0958\tHenrik\t00120\r\n"
        "+33 6 12 34 56 78\tInès\t+5\r\n",
        encoding="utf-16",
    )
    # HubSpot-style export with per-row reserved columns and a pipe delimiter.
    write(
        "hubspot_pipe.csv",
        "Record ID|Phone Number|country|from_number|timezone|agent_id|First Name\n"
        "101|020 7946 0958|GB|+14155550100|Europe/London|agent_uk|Olivia\n"
        "102|(415) 555-0177||||agent_us|Liam\n"
        "103|06 12 34 56 78|FR||Mars/Olympus||Emma\n"
        "104|+1 415 555 0178|ZZ||||Noah\n"
        "105|415 555 0179||555||| Ava\n",
    )
    # A results file fed back in: its result columns are recognised and are not variables.
    write(
        "results_again.csv",
        "phone,name,source_row,phone_e164,status,attempts,call_id,outcome,error\n"
        "+14155550123,Ana,1,+14155550123,completed,1,c-1,interested,\n"
        "+14155550124,Bo,2,+14155550124,failed,3,c-2,,busy\n",
    )
    write("header_only.csv", "phone,name\r\n")
    write("empty.csv", "")
    write("ragged.csv", "phone,name\n+14155550123,Ana\n+14155550124,Bo,extra\n+14155550125\n")
    write("duplicate_header.csv", "phone,Name,email,name\n+14155550123,a,b,c\n")
    write("no_phone_column.csv", "name,email\nAna,ana@example.com\n")
    (HERE / "fake.pdf.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (HERE / "binary.csv").write_bytes(bytes(range(256)) * 4)
    write("dnc.txt", "+1 (212) 555-0100\ntel:+44 20 7946 0958\n\n0033 6 12 34 56 78\n")
    make_workbook(HERE / "contacts.xlsx")
    # A Salesforce contacts report: country names in "Mailing Country", "Phone" then "Mobile".
    write(
        "salesforce_countries.csv",
        '"First Name","Last Name","Phone","Mobile","Mailing Country"\r\n'
        '"Olivia","Smith","020 7946 0958","","United Kingdom"\r\n'
        '"Lukas","Müller","030 901820","","Germany"\r\n'
        '"Liam","Jones","(415) 555-0177","","USA"\r\n'
        '"Emma","Martin","06 12 34 56 78","","France"\r\n'
        '"Zoé","Dubois","","07911 123456","United Kingdom"\r\n'
        '"Jonas","Klein","0151 23456789","","Deutschland"\r\n'
        '"Ana","Ruiz","","","Spain"\r\n'
        '"Kai","Atlas","020 7946 0959","","Atlantis"\r\n',
    )
    # A HubSpot contacts export: "Phone Number" empty where "Mobile Phone Number" is not.
    write(
        "hubspot_mobile.csv",
        '"Record ID","First Name","Email","Phone Number","Mobile Phone Number","Country/Region"\n'
        '"501","Amélie","a@example.com","","06 12 34 56 79","France"\n'
        '"502","Ben","b@example.com","+1 415 555 0179","","United States"\n'
        '"503","Cara","c@example.com","","","United Kingdom"\n'
        '"504","Dan","d@example.com","","07911 123457","UK"\n',
    )


def make_workbook(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Contacts"
    sheet.append(["Phone", "Name", "Zip", "Joined"])
    sheet.append([14155550123, "Ana", "02134", None])  # a number cell: read as digits
    sheet.append(["+44 20 7946 0958", "Ben", "SW1A", "2024-05-01"])
    sheet.append([4155550124.0, "Cy", 2134, True])  # a float cell that is a whole number
    sheet.append([None, None, None, None])
    sheet.append(["not known", "Dee", "", ""])
    leads = book.create_sheet("Leads")
    leads.append(["mobile", "who"])
    leads.append(["(646) 555-0199", "Eli"])
    book.save(path)


if __name__ == "__main__":
    main()
