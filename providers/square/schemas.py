"""Square response bodies we read, parsed strictly at the edge (fields per the OpenAPI spec in
shared/reference/square/openapi-subset.json). Unknown fields are ignored: Square adds fields."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class SquareModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ObtainTokenResponse(SquareModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None = None
    merchant_id: str = ""
    refresh_token: str = ""
    short_lived: bool = False
    refresh_token_expires_at: datetime | None = None


class TokenStatus(SquareModel):
    scopes: list[str] = []
    expires_at: datetime | None = None
    client_id: str = ""
    merchant_id: str = ""


class Merchant(SquareModel):
    id: str
    business_name: str = ""
    country: str = ""
    currency: str = ""
    status: str = ""
    main_location_id: str = ""


class RetrieveMerchantResponse(SquareModel):
    merchant: Merchant


class Location(SquareModel):
    id: str
    name: str = ""
    status: str = ""
    timezone: str = "UTC"
    currency: str = ""
    business_name: str = ""
    business_email: str = ""


class ListLocationsResponse(SquareModel):
    locations: list[Location] = []
