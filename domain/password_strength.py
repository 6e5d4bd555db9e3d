"""Strength feedback for a new password: length-based, no composition rules, a small blocklist.

NIST SP 800-63B-4 §3.1.1.2 and ASVS 6.2: require a minimum length, allow every printable character,
never demand "a digit and a capital", and refuse passwords that are known to be common or that
repeat what the member's own account already shows (Web-ID, email, card number, date of birth).
The password is compared in its NFKC form (:func:`domain.credentials.parse_password`), the form that
is hashed, so a full-width copy of a blocked word is blocked too.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.credentials import CredentialFormatError, CredentialPolicy

#: A deliberately small list: the most common passwords in public breach corpora, the ones people
#: build from this service's own words, and keyboard walks. Compared case-insensitively, whole.
BLOCKLIST = frozenset({
    "password", "password1", "password123", "passw0rd", "p@ssw0rd", "12345678", "123456789",
    "1234567890", "0123456789", "87654321", "11111111", "00000000", "99999999", "12341234",
    "qwertyui", "qwertyuiop", "asdfghjk", "asdfghjkl", "zxcvbnm1", "1q2w3e4r", "1qaz2wsx",
    "qwerty123", "iloveyou", "sunshine", "princess", "football", "baseball", "starwars",
    "abcdefgh", "abcd1234", "aaaaaaaa", "letmein1", "welcome1", "trustno1", "superman",
    "promise1", "promise123", "kaiin123", "kaiinkaiin", "cardloan", "loan1234", "tokyo123",
    "sakura123", "doraemon", "pokemon1", "naruto123", "onepiece",
})


@dataclass(frozen=True, slots=True)
class StrengthPolicy:
    """Lengths at which feedback changes; ``web/settings.py`` builds one from its fields."""

    good_length: int = 12
    strong_length: int = 16


@dataclass(frozen=True, slots=True)
class Strength:
    """What the form shows under the password field."""

    acceptable: bool
    level: int  #: 0 refused, 1 usable, 2 good, 3 strong
    label: str  #: 使えません / 弱め / 良い / 強い
    message: str


def _is_run(text: str) -> bool:
    """One character repeated, or a straight run up or down (``aaaaaaaa``, ``12345678``, ``hgfedcba``)."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def _context_words(context: tuple[str, ...]) -> list[str]:
    words = []
    for item in context:
        if not item:
            continue
        words.append(item.lower())
        local = item.split("@", 1)[0]
        if "@" in item and len(local) >= 4:
            words.append(local.lower())
    return words


def assess(password: str, credential: CredentialPolicy, policy: StrengthPolicy,
           *, context: tuple[str, ...] = ()) -> Strength:
    """Feedback for ``password`` (already NFKC). ``context``: the member's Web-ID, email, card number,
    birth date digits; a password that is one of them, or contains one of at least 4 characters, is refused."""
    size = len(password)
    if size < credential.password_min:
        return Strength(False, 0, "使えません", f"あと{credential.password_min - size}文字以上にしてください"
                        f"（{credential.password_min}文字以上）。")
    if size > credential.password_max:
        return Strength(False, 0, "使えません", f"{credential.password_max}文字以内にしてください。")
    lowered = password.lower()
    if lowered in BLOCKLIST or _is_run(password):
        return Strength(False, 0, "使えません", "よく使われていて推測されやすいパスワードです。別のものにしてください。")
    for word in _context_words(context):
        if lowered == word or (len(word) >= 4 and word in lowered):
            return Strength(False, 0, "使えません",
                            "ログインID・メールアドレス・カード番号・生年月日を含むパスワードは使えません。")
    if size >= policy.strong_length:
        return Strength(True, 3, "強い", "十分な長さです。")
    if size >= policy.good_length:
        return Strength(True, 2, "良い", f"{policy.strong_length}文字以上にすると、さらに安全です。")
    return Strength(True, 1, "弱め", f"使えますが、{policy.good_length}文字以上をおすすめします。"
                    "単語をいくつか並べると覚えやすく安全です。")


def require_acceptable(password: str, credential: CredentialPolicy, policy: StrengthPolicy,
                       *, context: tuple[str, ...] = ()) -> None:
    """Raise :class:`CredentialFormatError` (field ``new_password``) when :func:`assess` refuses it."""
    strength = assess(password, credential, policy, context=context)
    if not strength.acceptable:
        raise CredentialFormatError("new_password", strength.message)
