"""Money in minor units as people read it: 1820450, "USD" -> "$18,204.50"."""

from __future__ import annotations

# ISO 4217 minor-unit exponents that are not 2 (the few a restaurant may meet).
EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "ISK": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3}
SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "GBP": "£", "EUR": "€", "JPY": "¥"}


def format_money(amount: int, currency: str) -> str:
    exponent = EXPONENTS.get(currency, 2)
    sign = "−" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**exponent)
    number = f"{units:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{currency} {number}".strip()
