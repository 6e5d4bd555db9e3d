"""Tables. Money is integer yen (BigInt), rates integer hundredths of a percent, times aware UTC."""

from piccolo.columns import BigInt, Boolean, Bytea, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


#: the largest row id: ids are ``serial`` (32-bit) on PostgreSQL, which refuses a larger number as an argument
#: (an id from a URL beyond it is no row's: treat it as not found)
MAX_ROW_ID = 2**31 - 1


class Member(Table):
    member_no = Varchar(length=16, unique=True)  #: 会員番号, printed for operators
    name = Varchar(length=64)
    birth_date = Date(null=True, default=None)
    email = Varchar(length=254, null=True, default=None)
    email_verified = Boolean(default=False)
    web_id = Varchar(length=32, null=True, default=None, unique=True)  #: case-sensitive login ID
    status = Varchar(length=20, default="active")  #: active | borrowing_stopped | suspended
    status_reason = Varchar(length=200, default="")
    points = BigInt(default=0)  #: Vポイント, 1 point = 1 yen
    created_at = Timestamptz()
    session_epoch = Integer(default=0)  #: raised to end every session (password reset, suspension)


class Card(Table):
    member = ForeignKey(Member, null=False)
    card_number = Varchar(length=16, unique=True)  #: digits only, normalised
    issued_at = Timestamptz()


class Credential(Table):
    """A knowledge factor (PIN or password) and its own lockout counter."""

    member = ForeignKey(Member, null=False)
    kind = Varchar(length=10)  #: pin | password
    secret_hash = Varchar(length=255)  #: Argon2id
    failed_count = Integer(default=0)
    locked_at = Timestamptz(null=True, default=None)
    changed_at = Timestamptz()


class Contract(Table):
    member = ForeignKey(Member, null=False, index=True)
    contract_no = Varchar(length=20, unique=True)
    opened_on = Date()
    credit_limit = BigInt()  #: yen
    rate = Integer()  #: hundredths of a percent: 17.8% = 1780
    due_day = Varchar(length=3)  #: 5 | 15 | 25 | end
    status = Varchar(length=20, default="open")  #: open | closed
    interest_free_until = Date(null=True, default=None)
    principal = BigInt(default=0)  #: cached principal balance, changed in the same transaction as the ledger
    #: cached engine state (JSON: the folded domain.loan.LoanState and the last entry id folded in), written
    #: by db.loans.post in the same transaction as the entries; readers fold any later rows themselves
    loan_state = Text(default="")


class LedgerEntry(Table):
    """Append-only: corrections are new rows (reversal, adjustment), never updates."""

    contract = ForeignKey(Contract, null=False, index=True)
    kind = Varchar(length=20)  #: borrowing | repayment | point_use | interest_charge | late_charge | reversal | adjustment
    occurred_at = Timestamptz()
    value_date = Date()  #: the JST calendar day the entry counts on
    amount = BigInt()  #: yen (or points) moved, positive
    # signed changes to what is owed: what is owed is always the sum of these columns (plus accrual)
    principal = BigInt(default=0)  #: signed change to the principal balance
    interest = BigInt(default=0)  #: signed change to unpaid interest (+ charged, − paid by a repayment)
    late_charge = BigInt(default=0)  #: signed change to unpaid late charge (+ charged, − paid)
    points = BigInt(default=0)  #: points used by this entry
    principal_after = BigInt()  #: principal balance after this entry
    reference = Varchar(length=40, default="")
    reverses = Varchar(length=20, default="")  #: for a reversal: the kind of the entry it undoes


class MaintenanceWindow(Table):
    """An operator's maintenance window [starts_at, ends_at); the weekly and New Year ones are not stored."""

    starts_at = Timestamptz()
    ends_at = Timestamptz(index=True)  #: the gate reads the windows that have not ended (again when they change)
    reason = Varchar(length=200)
    created_at = Timestamptz()



class MemberProfile(Table):
    """住所・勤務先 (product.md §8): one row per member once set; text NFKC-normalised, digits ASCII."""

    member = ForeignKey(Member, null=False, unique=True)
    postcode = Varchar(length=7)  #: 7 ASCII digits
    address = Varchar(length=200)
    workplace_name = Varchar(length=120, default="")  #: empty: no workplace
    workplace_phone = Varchar(length=11, default="")  #: ASCII digits, domestic format
    updated_at = Timestamptz()


class ReminderSetting(Table):
    """返済日お知らせメール choice; a member without a row has the defaults of web/settings.py."""

    member = ForeignKey(Member, null=False, unique=True)
    enabled = Boolean(default=True)
    days_before = Integer()  #: 1–7 days before the due date
    hour = Integer()  #: 0–23, Japan time
    updated_at = Timestamptz()


class EmailChange(Table):
    """A pending email registration or change: the code went to ``new_email``; hashed, short-lived, single use."""

    member = ForeignKey(Member, null=False, index=True)
    new_email = Varchar(length=254)
    code_hash = Varchar(length=64)  #: HMAC-SHA256 of the code bound to this row (domain.verification)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    tries = Integer(default=0)
    used_at = Timestamptz(null=True, default=None)  #: confirmed, or replaced by a newer request


class ReminderSent(Table):
    """One row per reminder ever queued: the unique ``key`` is the claim that makes it once only."""

    key = Varchar(length=60, unique=True)  #: <member id>:<due|overdue>:<date>
    member = ForeignKey(Member, null=False, index=True)
    kind = Varchar(length=10)  #: due | overdue
    on_date = Date()  #: the due date, or the first late day
    queued_at = Timestamptz()
    outbox = Integer(null=True, default=None)  #: the outbox mail that carries it


class Bank(Table):
    """Operators' changes to the bundled bank list (``db.banks.DEFAULT_BANKS``): additions, renames, the
    24-hour flag, or ``active=False`` to stop a bank being chosen as a payee."""

    code = Varchar(length=4, unique=True)  #: 全銀 金融機関コード
    name = Varchar(length=60)
    instant = Boolean(default=False)  #: settles 24 hours a day (全銀モアタイム), so transfers arrive at once
    active = Boolean(default=True)
    changed_at = Timestamptz()


class PayeeAccount(Table):
    """A member's payee account (振込先口座). A change adds a row and retires the old one (``active``)."""

    member = ForeignKey(Member, null=False, index=True)
    bank_code = Varchar(length=4)
    branch_code = Varchar(length=3)
    account_type = Varchar(length=1)  #: 1 普通 | 2 当座
    account_number = Varchar(length=7)
    holder_name = Varchar(length=30)  #: full-width katakana
    active = Boolean(default=True)
    created_at = Timestamptz()
    retired_at = Timestamptz(null=True, default=None)


class Transfer(Table):
    """One instant-transfer borrowing (瞬フリ), from the confirm step to the bank's answer.

    status: queued (waiting for bank hours; its amount is reserved) → sending (claimed by a process until
    ``claimed_until``; the borrowing is in the ledger) → sent | failed (reversed in the ledger) | cancelled
    (refused at send time; nothing was posted).
    """

    transfer_no = Varchar(length=20, unique=True)  #: shown on the receipt
    request_key = Varchar(length=100, unique=True)  #: "<member id>:<idempotency key of the confirm form>"
    member = ForeignKey(Member, null=False, index=True)
    contract = ForeignKey(Contract, null=False)
    amount = BigInt()
    bank_code = Varchar(length=4)
    bank_name = Varchar(length=60)
    instant = Boolean(default=False)
    branch_code = Varchar(length=3)
    account_type = Varchar(length=1)
    account_number = Varchar(length=7)
    holder_name = Varchar(length=30)
    status = Varchar(length=10, index=True)
    requested_at = Timestamptz()
    send_at = Timestamptz(index=True)  #: when it may be sent (bank hours, maintenance)
    claimed_by = Varchar(length=64, default="")
    claimed_until = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    borrowing_entry = BigInt(default=0)  #: ledger row id of the borrowing (0 until sent)
    reversal_entry = BigInt(default=0)  #: ledger row id of the reversal of a failed transfer
    borrowed_on = Date(null=True, default=None)  #: the JST day the money was sent
    amount_due = BigInt(default=0)  #: the amount due this borrowing set (after sending)
    next_due_date = Date(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    bank_reference = Varchar(length=40, default="")
    failure = Varchar(length=200, default="")  #: why it failed or was cancelled, for the member


class SimulatedBankPayment(Table):
    """The bank simulator's own book: what "the bank" received, one row per transfer number."""

    transfer_no = Varchar(length=20, unique=True)
    bank_code = Varchar(length=4)
    account = Varchar(length=20)  #: branch-type-number
    amount = BigInt()
    outcome = Varchar(length=10)  #: settled | accepted (settles later) | rejected
    reason = Varchar(length=200, default="")
    received_at = Timestamptz()
    settles_at = Timestamptz()


class AuditEvent(Table):
    """Security events: who, what, when, from where, outcome. Never a secret, card number, session id or code."""

    at = Timestamptz(index=True)
    member = Integer(null=True, default=None, index=True)  #: member id, when known (no FK: events outlive members)
    actor = Varchar(length=40)  #: member | operator | system
    action = Varchar(length=40)  #: login_card, login_id, lockout, recover_code_sent, step_up, member_suspend, ...
    outcome = Varchar(length=20)  #: ok | failed | locked | throttled | suspended | denied
    ip = Varchar(length=45, default="")
    detail = Varchar(length=200, default="")  #: masked card number, operator note, ... (control characters escaped)


class ThrottleCounter(Table):
    """Per-IP attempt counters in fixed windows, shared by every process (when Redis is not used)."""

    bucket = Varchar(length=100, unique=True)  #: <scope>:<ip>
    window_start = BigInt(default=0)  #: Unix seconds (plain integers compare the same on both engines)
    hits = Integer(default=0)


class OneTimeCode(Table):
    """Codes sent by email for recovery and step-up: hashed, short-lived, a few tries, single use."""

    member = ForeignKey(Member, null=False, index=True)
    purpose = Varchar(length=10)  #: recover | step_up
    code_hash = Varchar(length=64)  #: HMAC-SHA256 of the code with the app secret
    created_at = Timestamptz()
    expires_at = Timestamptz()
    tries = Integer(default=0)
    used_at = Timestamptz(null=True, default=None)


class OutboxMail(Table):
    """Every mail kaiin sends, written in the same transaction as the change it reports."""

    member = Integer(null=True, default=None, index=True)
    to_addr = Varchar(length=254)
    kind = Varchar(length=30)  #: new_device | locked | password_changed | code_recover | ...
    subject = Varchar(length=200)
    body = Text()
    created_at = Timestamptz()
    claimed_at = Timestamptz(null=True, default=None)  #: a sender took it (stale claims are retaken)
    sent_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
    last_error = Varchar(length=200, default="")


class KnownDevice(Table):
    """Browsers a member has signed in from (their user agent, hashed), for new-device notices."""

    member = ForeignKey(Member, null=False, index=True)
    device_hash = Varchar(length=64)
    first_seen = Timestamptz()
    last_seen = Timestamptz()
class Repayment(Table):
    """One repayment request: internet repayment (Pay-easy) or automatic debit, and what came of it.

    ``request_key`` makes it idempotent: ``<member id>:<key of the confirm form>`` for internet repayment,
    ``debit:<contract id>:<due date>`` for a debit, so a double tap, a retry, a second tab or a second
    worker finds the first row instead of paying again.
    """

    request_key = Varchar(length=100, unique=True)
    member = ForeignKey(Member, null=False, index=True)
    contract = ForeignKey(Contract, null=False)
    channel = Varchar(length=10)  #: payeasy | debit
    choice = Varchar(length=10)  #: due | any | full | debit
    total = BigInt()  #: yen owed less
    money = BigInt()  #: yen collected from the bank
    points = BigInt(default=0)  #: Vポイント used (1 pt = ¥1)
    points_earned = BigInt(default=0)
    status = Varchar(length=10)  #: paid | declined | skipped
    entry = BigInt(default=0)  #: ledger row of the payment (its receipt); 0 when nothing was paid
    balance_after = BigInt(default=0)
    gateway_reference = Varchar(length=40, default="")
    note = Varchar(length=200, default="")  #: why it was declined or skipped, for the member
    created_at = Timestamptz()


class DebitAccount(Table):
    """A member's automatic-debit account (口座振替). A change adds a row and cancels the old one."""

    member = ForeignKey(Member, null=False, index=True)
    bank_code = Varchar(length=4)
    bank_name = Varchar(length=60)
    branch_code = Varchar(length=3)
    account_type = Varchar(length=1)  #: 1 普通 | 2 当座
    account_number = Varchar(length=7)
    holder_name = Varchar(length=30)
    active_from = Date()  #: the first day it may be debited (other banks: some business days later)
    cancelled_at = Timestamptz(null=True, default=None)
    registered_at = Timestamptz()


class JobClaim(Table):
    """One unit of scheduled work, claimed by inserting its ``key``: a second worker's insert finds it taken."""

    key = Varchar(length=100, unique=True)
    worker = Varchar(length=64, default="")
    claimed_at = Timestamptz()


class PasskeyUser(Table):
    """The WebAuthn user handle of a member: random bytes, the same for all their passkeys.

    Never the member number, a card number or an email: a handle is stored on the member's devices.
    """

    member = ForeignKey(Member, null=False, unique=True)
    user_handle = Varchar(length=64, unique=True)  #: base64url of 32 random bytes
    created_at = Timestamptz()


class Passkey(Table):
    """A registered passkey (discoverable WebAuthn credential)."""

    member = ForeignKey(Member, null=False, index=True)
    credential_id = Varchar(length=1400, unique=True)  #: base64url of the raw id (at most 1023 bytes)
    public_key = Bytea()  #: COSE key as the authenticator sent it
    sign_count = BigInt(default=0)
    transports = Varchar(length=200, default="")  #: comma separated: internal,hybrid,usb,...
    device_type = Varchar(length=20, default="single_device")  #: single_device | multi_device
    backed_up = Boolean(default=False)
    aaguid = Varchar(length=36, default="")
    name = Varchar(length=64)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)


class PasskeyChallenge(Table):
    """A WebAuthn challenge: single use, short-lived, bound to one session and one ceremony.

    The session holds a random token; only its hash is stored here. Consuming deletes the row first.
    """

    token_hash = Varchar(length=64, unique=True)
    ceremony = Varchar(length=12)  #: register | login | step_up
    member = Integer(null=True, default=None)  #: the member a registration or step-up was issued to
    challenge = Varchar(length=100)  #: base64url
    expires_at = Timestamptz(index=True)


ALL_TABLES = (
    Member, Card, Credential, Contract, LedgerEntry, MaintenanceWindow, MemberProfile, ReminderSetting, EmailChange,
    ReminderSent, AuditEvent, ThrottleCounter, OneTimeCode, OutboxMail, KnownDevice, Repayment, DebitAccount,
    JobClaim, Bank, PayeeAccount, Transfer, SimulatedBankPayment, PasskeyUser, Passkey, PasskeyChallenge,
)
