"""Invented people: names from small per-language lists and phone numbers that libphonenumber accepts for their
country but that belong to nobody we know of (random subscriber digits inside each country's mobile range)."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberType

# country -> (language, IANA zone)
COUNTRIES: dict[str, tuple[str, str]] = {
    "ES": ("es", "Europe/Madrid"),
    "IT": ("it", "Europe/Rome"),
    "PT": ("pt", "Europe/Lisbon"),
    "DE": ("de", "Europe/Berlin"),
    "FR": ("fr", "Europe/Paris"),
    "GB": ("en", "Europe/London"),
    "NL": ("en", "Europe/Amsterdam"),
    "BE": ("fr", "Europe/Brussels"),
    "PL": ("en", "Europe/Warsaw"),
    "US": ("en", "America/New_York"),
    "BR": ("pt", "America/Sao_Paulo"),
    "AR": ("es", "America/Argentina/Buenos_Aires"),
    "MX": ("es", "America/Mexico_City"),
    "CO": ("es", "America/Bogota"),
    "AU": ("en", "Australia/Sydney"),
    "JE": ("en", "Europe/Jersey"),  # +44 crown dependency: attribution must go by number range
    "CA": ("en", "America/Toronto"),  # +1 shared with US
}

FIRST = {
    "es": ["Alba", "Bruno", "Carmen", "Diego", "Elena", "Fermín", "Gala", "Hugo", "Inés", "Jorge", "Lucía", "Marcos"],
    "it": ["Aldo", "Bianca", "Carlo", "Dora", "Enzo", "Flavia", "Gino", "Ilaria", "Luca", "Marta", "Nico", "Ornella"],
    "pt": ["Abel", "Beatriz", "Caio", "Denise", "Edson", "Fabiana", "Gil", "Helena", "Ivo", "Joana", "Leandro"],
    "de": ["Anke", "Bernd", "Clara", "Dirk", "Elke", "Frank", "Greta", "Heiko", "Ilse", "Jonas", "Katrin", "Lutz"],
    "fr": ["Amélie", "Bastien", "Camille", "Damien", "Elodie", "Fabien", "Gaëlle", "Hervé", "Inès", "Julien"],
    "en": ["Alfie", "Bethany", "Callum", "Daisy", "Ellis", "Freya", "Gareth", "Holly", "Isaac", "Jodie", "Kieran"],
}
LAST = ["Quillon", "Varnet", "Ostrava", "Bellweather", "Tamsin", "Ruddock", "Pellig", "Wexmoor", "Drayle",
        "Halvard", "Isenby", "Korvish", "Lunsett", "Marrow", "Nettle", "Orrin", "Pym", "Quarles", "Sallow"]


def invent_phone(rng: random.Random, region: str, used: set[str]) -> str:
    """A mobile number valid for ``region`` (E.164). Random subscriber digits on the example number's prefix."""
    ex = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if ex is None:
        raise ValueError(f"no mobile numbering plan for {region}")
    national = str(ex.national_number)
    keep = max(2, len(national) // 3)
    for _ in range(2000):
        digits = national[:keep] + "".join(rng.choice("0123456789") for _ in range(len(national) - keep))
        num = phonenumbers.parse(f"+{ex.country_code}{digits}")
        if phonenumbers.is_valid_number(num) and phonenumbers.region_code_for_number(num) == region:
            e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in used:
                used.add(e164)
                return e164
    raise RuntimeError(f"could not invent a valid number for {region}")


def invent_name(rng: random.Random, lang: str) -> str:
    return f"{rng.choice(FIRST[lang])} {rng.choice(LAST)}"
