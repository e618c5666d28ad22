"""Request bodies with the documented constraints, so FastAPI answers bad input with a real 422."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

E164 = r"^\+[1-9]\d{1,14}$"
Phone = Annotated[str, Field(pattern=E164)]
Limit = Annotated[int, Field(ge=1, le=100)]
Offset = Annotated[int, Field(ge=0)]


class CreateCall(BaseModel):
    """`POST /v1/calls`."""

    agent_id: uuid.UUID
    to_number: Phone
    from_number: Phone
    scheduled_at: datetime | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    webhook_url: str | None = None
    overrides: dict[str, Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class UpdateCall(BaseModel):
    """`PATCH /v1/calls/{call_id}`: set the outcome (lowercase or snake_case, stored Title Case)."""

    outcome: str = Field(min_length=1)


class CreateAgent(BaseModel):
    """`POST /v1/agents`: only `name` is required; other documented fields pass through."""

    model_config = {"extra": "allow"}

    name: str = Field(min_length=1)


class ProviderConfig(BaseModel):
    """SIP digest credentials for a number's outbound trunk."""

    trunk_address: str | None = None
    auth_username: str | None = None
    auth_password: str | None = None


class RegisterNumber(BaseModel):
    """`POST /v1/phone-numbers`: bring a Twilio or Telnyx number."""

    phone_number: Phone
    provider: Literal["twilio", "telnyx"]
    agent_id: uuid.UUID
    friendly_name: str | None = None
    provider_config: ProviderConfig | None = None
    inbound_routing: dict[str, Any] | None = None
    credential_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _needs_trunk_or_credential(self) -> RegisterNumber:
        if self.provider_config is None and self.credential_id is None:
            raise ValueError("give provider_config or credential_id")
        return self


class PurchaseNumber(BaseModel):
    """`POST /v1/phone-numbers/purchase`: a specific number, or filters to auto-pick one."""

    phone_number: Phone | None = None
    country: str = Field(default="US", min_length=2, max_length=2)
    area_code: str | None = Field(default=None, pattern=r"^\d{2,4}$")
    contains: str | None = Field(default=None, pattern=r"^\d{1,8}$")
    agent_id: uuid.UUID | None = None
    friendly_name: str | None = None


class CreateCredential(BaseModel):
    """`POST /v1/credentials`: a provider key, stored and never returned in full."""

    name: str = Field(min_length=1)
    provider: Literal["openai", "gemini", "elevenlabs", "cartesia", "deepgram", "twilio"]
    api_key: str = Field(min_length=1)
