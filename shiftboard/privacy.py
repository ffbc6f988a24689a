"""Masks for screens in public view (``--privacy`` and the ``p`` key): customers' names, emails, phone numbers and
ticket subjects are hidden; agents' names stay, since supervisors need them and agents are staff.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, optionally grouped by spaces, dots, dashes or brackets, optionally with a leading +.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
HIDDEN = "•••"


def mask_email(email: str) -> str:
    """First letter of the mailbox and the top-level domain: j•••@•••.com."""
    mailbox, _, domain = email.partition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{mailbox[:1]}{HIDDEN}@{HIDDEN}" + (f".{tld}" if tld else "")


def mask_phone(phone: str) -> str:
    """Every digit but the last two hidden: •••••••42."""
    digits = re.sub(r"\D", "", phone)
    return "•" * max(0, len(digits) - 2) + digits[-2:]


def mask_text(text: str) -> str:
    """Free text with every email address and phone number in it masked (rating comments, notes)."""
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    return _PHONE.sub(lambda m: mask_phone(m.group()) if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)


def mask_customer(value: str | None) -> str | None:
    """A customer's identity reduced to initials (or a masked email/phone when that is all there is)."""
    if value is None or not value.strip():
        return value if value is None else ""
    value = value.strip()
    if _EMAIL.fullmatch(value):
        return mask_email(value)
    if _PHONE.fullmatch(value):
        return mask_phone(value)
    initials = [part[0].upper() + "." for part in re.split(r"[\s,]+", value) if part[:1].isalpha()]
    return " ".join(initials[:3]) or HIDDEN


def mask_subject(value: str | None) -> str | None:
    """A subject is hidden whole: it often names the customer or their problem."""
    if not value:
        return value
    return f"{HIDDEN} subject hidden ({len(value)} characters)"


#: Fields of a drilled row or record that identify a customer or describe their problem, and how each is masked.
_FIELD_MASKS = {
    "customer": mask_customer,
    "requester": mask_customer,
    "email": mask_customer,
    "phone": mask_customer,
    "subject": mask_subject,
    "comment": mask_text,
    "description": mask_subject,
}


def mask_record(row: dict[str, object]) -> dict[str, object]:
    """A copy of a row (a drill-down row or a stored record) with customers' identities, contact details and
    subjects masked; agents' names, queues, times and ids stay as they are."""
    masked = dict(row)
    for field, mask in _FIELD_MASKS.items():
        value = masked.get(field)
        if isinstance(value, str):
            masked[field] = mask(value)
    return masked
