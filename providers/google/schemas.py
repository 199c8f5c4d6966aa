"""Google response bodies we read, parsed strictly at the edge (shared/reference/google/)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GoogleModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UserInfo(GoogleModel):
    """OpenID Connect userinfo (https://www.googleapis.com/oauth2/v3/userinfo)."""

    sub: str
    email: str = ""
    email_verified: bool = False
    name: str = ""
    picture: str = ""
