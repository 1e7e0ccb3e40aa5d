"""Showing a citizen's contact data to staff: in full to the roles that must call back, masked
to the others (Decree 13/2023/NĐ-CP: personal data only to those who need it). Pure.

The roles are a policy, kept here in one place: the operator who took the call and the
handlers and heads who answer the case see the number; an inspector reviews how a case was
handled and sees that there is a number, not the number.
"""

from __future__ import annotations

from feedback_core.roles import Role

MASK = "*"
# Who sees a caller's phone number and e-mail address in full.
FULL_CONTACT_ROLES = frozenset({Role.OPERATOR, Role.HANDLER, Role.HEAD})
_KEEP = 3  # characters kept at each end of a phone number


def sees_full_contact(role: Role | str) -> bool:
    """Does this role see contact data unmasked? Unknown roles do not."""
    return role in FULL_CONTACT_ROLES


def mask_phone(phone: str) -> str:
    """``0912345678`` → ``091****678``: the first and last three characters stay, so an
    officer can tell two numbers apart and a caller can confirm theirs; the length stays.

    Numbers of six characters or fewer keep only their last character.
    """
    phone = phone.strip()
    if not phone:
        return ""
    if len(phone) <= 2 * _KEEP:
        return MASK * (len(phone) - 1) + phone[-1]
    return phone[:_KEEP] + MASK * (len(phone) - 2 * _KEEP) + phone[-_KEEP:]


def mask_email(email: str) -> str:
    """``nguyen.van.a@gmail.com`` → ``n***@g***.com``: the first character of the name and of
    each domain label, and the top-level domain, with a fixed-width mask (hides the length)."""
    email = email.strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return _hide(email)
    labels = domain.split(".")
    if len(labels) < 2:
        return f"{_hide(local)}@{_hide(domain)}"
    masked = [_hide(label) for label in labels[:-1]]
    return f"{_hide(local)}@{'.'.join(masked)}.{labels[-1]}"


def _hide(text: str) -> str:
    return f"{text[:1]}{MASK * 3}" if text else ""


def phone_for(role: Role | str, phone: str) -> str:
    """The phone number as ``role`` may see it."""
    return phone if sees_full_contact(role) else mask_phone(phone)


def email_for(role: Role | str, email: str) -> str:
    """The e-mail address as ``role`` may see it."""
    return email if sees_full_contact(role) else mask_email(email)
