"""Every setting and policy number of kaiin, read once from the environment.

Each field can be overridden by an environment variable: the connection settings by their documented
names (``DATABASE_URL``, ``REDIS_URL``, ``HOST``, ``PORT``, ``SMTP_URL``), everything else as
``KAIIN_<FIELD NAME IN CAPITALS>`` (``KAIIN_SESSION_IDLE_SECONDS=600``). Tuples are comma separated.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from domain.auth_policy import AuthPolicy
from domain.credentials import CredentialPolicy
from domain.maintenance import MaintenancePolicy
from domain.passkeys import PasskeyPolicy
from domain.password_strength import StrengthPolicy
from domain.policy import LoanPolicy
from domain.profile import ProfilePolicy
from domain.reminders import ReminderPolicy
from domain.repayment import RepaymentPolicy
from domain.simulator import SimulatorLimits
from domain.transfers import TransferPolicy

_PROFILE = ProfilePolicy()
_STRENGTH = StrengthPolicy()
_REMINDER = ReminderPolicy()
_AUTH = AuthPolicy()
_CREDENTIALS = CredentialPolicy()
ROOT = Path(__file__).resolve().parent.parent

_PLAIN_NAMES = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "host": "HOST",
    "port": "PORT",
    "smtp_url": "SMTP_URL",
}


class SettingsError(ValueError):
    """A setting in the environment cannot be used."""


@dataclass(frozen=True)
class Settings:
    # --- where things run -------------------------------------------------------------------------
    env: str = "dev"  #: dev | test | prod; prod turns on secure cookies and HSTS, refuses dev-only features
    database_url: str = "sqlite:///./data/kaiin.sqlite3"  #: relative paths are under the project folder
    redis_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_url: str = ""
    data_dir: str = "./data"
    clock: str = ""  #: dev only: fixed ISO time with offset, or an offset like +3h / -90m / +2d
    secret_key: str = ""  #: signs CSRF tokens; required in prod, kept in data_dir in dev
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
    trusted_proxies: tuple[str, ...] = ()  #: peers whose X-Forwarded-For is believed
    public_origin: str = ""  #: e.g. https://kaiin.example.jp; defaults to http://HOST:PORT
    db_pool_max: int = 10  #: PostgreSQL: the pool's connections per process, and as many for plain reads; 0 = no pool
    workers: int = 1  #: server processes for `kaiin serve`
    bench_routes: bool = False  #: adds /_bench/floor, the trivial route benchmarks compare against

    # --- the lender, as printed on receipts and in mail -------------------------------------------
    lender_name: str = "カイイン・ファイナンス株式会社"
    lender_address: str = "東京都千代田区丸の内一丁目1番1号"
    lender_registration: str = "関東財務局長(1)第00001号 日本貸金業協会会員第000001号"
    lender_phone: str = "0120-000-000"
    app_name: str = "カイイン 会員サービス"
    app_short_name: str = "カイイン"

    # --- sessions ---------------------------------------------------------------------------------
    session_idle_seconds: int = 15 * 60
    session_absolute_seconds: int = 8 * 60 * 60
    #: the idle clock's resolution: a request moves ``seen_at`` (and writes the session) only when it is older
    #: than this, so most requests write nothing; a session may end up to this much before the idle timeout
    session_seen_refresh_seconds: int = 60
    step_up_seconds: int = _AUTH.step_up_seconds

    # --- sign-in and account protection (product.md §1; defaults from domain.auth_policy/credentials) ----
    card_lengths: tuple[int, ...] = _CREDENTIALS.card_lengths
    pin_length: int = _CREDENTIALS.pin_length
    web_id_min: int = _CREDENTIALS.web_id_min
    web_id_max: int = _CREDENTIALS.web_id_max
    password_min: int = _CREDENTIALS.password_min
    password_max: int = _CREDENTIALS.password_max
    lockout_threshold: int = _AUTH.lockout_threshold  #: consecutive failures that lock a PIN or password
    login_throttle_max: int = _AUTH.login_throttle_max  #: sign-in attempts per IP per window (successes given back)
    login_throttle_window_seconds: int = _AUTH.login_throttle_window_seconds
    recover_throttle_max: int = _AUTH.recover_throttle_max  #: recovery and step-up requests per IP per window
    recover_throttle_window_seconds: int = _AUTH.recover_throttle_window_seconds
    passkey_options_throttle_max: int = _AUTH.passkey_options_throttle_max  #: passkey sign-in challenges per IP
    passkey_options_throttle_window_seconds: int = _AUTH.passkey_options_throttle_window_seconds
    code_digits: int = _AUTH.code_digits  #: one-time codes by email (recovery, step-up)
    code_ttl_seconds: int = _AUTH.code_ttl_seconds
    code_max_tries: int = _AUTH.code_max_tries
    mail_from: str = "no-reply@kaiin.example.jp"

    # --- password hashing (Argon2id) --------------------------------------------------------------
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    argon2_parallelism: int = 1

    # --- maintenance windows (Asia/Tokyo wall clock) ----------------------------------------------
    maintenance_weekday: int = 0  #: the weekly window's day, 0 = Monday … 6 = Sunday
    maintenance_start_hour: int = 0  #: the weekly window, from this hour…
    maintenance_end_hour: int = 7  #: …to this one
    maintenance_new_year_end_day: int = 2  #: the New Year window, January 1 00:00 until this day of January…
    maintenance_new_year_end_hour: int = 7  #: …at this hour
    maintenance_banner_minutes: int = 60  #: pages announce a window this long before it starts
    maintenance_schedule_days: int = 7  #: /maintenance lists the windows of this many days ahead

    # --- passkeys (WebAuthn; product.md §1, domain/passkeys.py) ------------------------------------
    passkey_rp_id: str = ""  #: the WebAuthn RP ID; defaults to the host name of the public origin
    passkey_challenge_ttl_seconds: int = 5 * 60  #: a challenge is single use and dies after this
    passkey_timeout_ms: int = 120_000  #: how long the browser waits for the member
    passkey_name_max: int = 40  #: characters in a passkey's name
    passkeys_max: int = 10  #: passkeys one member may hold
    passkey_response_max_bytes: int = 16 * 1024  #: a larger WebAuthn response is refused unread

    # --- budgets shown in the UI ------------------------------------------------------------------
    history_page_size: int = 20

    # --- repayment, points and automatic debit (product.md §5) ------------------------------------
    repay_unit: int = 1  #: internet repayment in ¥1 units…
    repay_minimum: int = 200  #: …from ¥200, or the whole payoff when less
    repay_max_digits: int = 10
    point_yen: int = 1  #: 1 Vポイント pays ¥1
    interest_per_point: int = 200  #: 1 point earned per ¥200 of interest repaid
    savings_projection_max_months: int = 600  #: longer projections are not shown
    debit_instant_banks: tuple[str, ...] = ("0009", "0033")  #: 三井住友銀行, PayPay銀行: active at once, any due day
    debit_pending_business_days: int = 3  #: other banks: active after this many business days…
    debit_fixed_due_day: int = 5  #: …with the due day fixed to the 5th
    payment_gateway: str = "simulator"  #: bank payment gateway for repayments and debits
    worker_interval_seconds: int = 60  #: how often `kaiin worker` looks for work

    # --- the loan engine (product.md §6); domain.policy.LoanPolicy is built from these --------------
    # Rates in hundredths of a percent, money in yen. Tiers are "bound:value" (ascending).
    loan_rate_min: int = 450
    loan_rate_max: int = 1780
    loan_limit_min: int = 10_000
    loan_limit_max: int = 5_000_000
    loan_rate_cap_tiers: tuple[str, ...] = ("100000:2000", "1000000:1800")  #: 利息制限法: limit below → cap
    loan_rate_cap_top: int = 1500
    loan_late_charge_rate: int = 2000
    loan_days_in_year: int = 365
    loan_days_in_leap_year: int = 366
    loan_amount_due_tiers: tuple[str, ...] = ("300000:361", "1000000:253")  #: 残高スライド: base up to → rate
    loan_amount_due_top: int = 199
    loan_amount_due_unit: int = 1_000
    loan_due_days: tuple[str, ...] = ("5", "15", "25", "31")  #: 31 = month end
    #: first due date: "due day:last day of the month that gets the near month:months ahead near:otherwise"
    loan_first_due_rules: tuple[str, ...] = ("5:19:1:2", "15:31:1:1", "25:9:0:1", "31:14:0:1")
    loan_interest_free_days: int = 30
    loan_closed_days: tuple[str, ...] = ("12:31", "1:1", "1:2", "1:3")  #: month:day closed every year
    demo_bulk_rows: int = 100_000  #: ledger rows of the demo member kept for the history benchmark

    # --- the interest simulator (product.md §7) -----------------------------------------------------
    simulator_months_max: int = 120  #: the longest schedule shown or accepted
    simulator_payment_unit: int = 1_000  #: "from the number of months" rounds the payment up to this
    simulator_input_max_chars: int = 32
    simulator_default_amount: int = 100_000
    simulator_default_months: int = 36
    simulator_due_day: int = 25  #: the due day the public simulator assumes until one is chosen
    simulator_debounce_ms: int = 300  #: live update after typing stops this long
    simulator_cache_entries: int = 4096  #: outcomes remembered per process (0: none)

    # --- settings pages and reminder mail (product.md §8, §9; defaults from domain.profile/reminders) ----
    postcode_digits: int = _PROFILE.postcode_digits
    address_max: int = _PROFILE.address_max  #: 住所, characters after NFKC
    workplace_name_max: int = _PROFILE.workplace_name_max
    phone_min_digits: int = _PROFILE.phone_min_digits
    phone_max_digits: int = _PROFILE.phone_max_digits
    email_max: int = _PROFILE.email_max
    form_raw_max: int = _PROFILE.raw_max  #: any settings field longer than this is refused unread
    password_good_length: int = _STRENGTH.good_length  #: strength feedback: 良い from here
    password_strong_length: int = _STRENGTH.strong_length  #: 強い from here
    reminder_days_before_min: int = _REMINDER.days_before_min
    reminder_days_before_max: int = _REMINDER.days_before_max
    reminder_hour_min: int = _REMINDER.hour_min  #: JST
    reminder_hour_max: int = _REMINDER.hour_max  #: JST
    reminder_default_enabled: bool = _REMINDER.default_enabled
    reminder_default_days_before: int = _REMINDER.default_days_before
    reminder_default_hour: int = _REMINDER.default_hour

    # --- instant transfer borrowing, 瞬フリ (product.md §4); money in yen, times of day in JST minutes --
    transfer_unit: int = 1_000  #: amounts are multiples of this
    transfer_minimum: int = 1_000
    transfer_max_digits: int = 10  #: longer amounts are refused before they are read
    transfer_quick_picks: tuple[str, ...] = ("10000", "30000", "50000", "100000")  #: buttons on the form
    bank_open_minute: int = 9 * 60  #: banks without 24-hour settlement take transfers from 09:00…
    bank_cutoff_minute: int = 14 * 60 + 50  #: …until 14:50 on business days
    bank_morning_send_minute: int = 9 * 60 + 30  #: queued transfers to those banks go out at 09:30
    payee_holder_name_max: int = 30  #: characters of the account holder's name (全銀)
    transfer_confirm_seconds: int = 10 * 60  #: how long a confirm page may be submitted
    transfer_claim_seconds: int = 60  #: a process sending a transfer holds it this long, then others may
    #: after the payee account is changed, borrowings to the new account stay within this total for this long
    transfer_changed_payee_hours: int = 24
    transfer_changed_payee_cap: int = 50_000
    worker_batch: int = 20  #: transfers one worker claims per round
    bank_gateway: str = "simulator"  #: the bank connection; only the simulator exists in this build
    bank_simulator_fail_accounts: tuple[str, ...] = ()  #: "bank-branch-number" the simulator rejects
    bank_simulator_latency_ms: int = 0  #: the simulator answers this much after recording a payment

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from ``environ`` (default: the process environment) and explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = _PLAIN_NAMES.get(f.name, f"KAIIN_{f.name.upper()}")
            if name in environ:
                values[f.name] = _parse(f, environ[name], name)
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse combinations that must never run."""
        if self.env not in ("dev", "test", "prod"):
            raise SettingsError(f"KAIIN_ENV は dev, test, prod のいずれかです: {self.env!r}")
        if self.is_prod and self.clock:
            raise SettingsError("KAIIN_CLOCK は本番 (KAIIN_ENV=prod) では使えません")
        if self.is_prod and len(self.secret_key) < 32:
            raise SettingsError("本番では KAIIN_SECRET_KEY (32文字以上) が必要です")
        if not self.database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise SettingsError(f"DATABASE_URL は sqlite:// か postgresql:// です: {self.database_url!r}")
        try:
            self.repayment_policy()
        except ValueError as error:
            raise SettingsError(f"返済の設定値が正しくありません: {error}") from None
        try:
            self.maintenance_policy()
        except ValueError as exc:
            raise SettingsError(f"KAIIN_MAINTENANCE_* の値が正しくありません: {exc}") from None
        policy = self.loan_policy()
        if self.simulator_due_day not in policy.due_days or min(self.simulator_months_max, self.simulator_payment_unit) <= 0:
            raise SettingsError("KAIIN_SIMULATOR_* の値が正しくありません")

        if self.bank_gateway != "simulator":
            raise SettingsError(f"KAIIN_BANK_GATEWAY は simulator だけが使えます: {self.bank_gateway!r}")
        self.transfer_policy()

    @property
    def rp_id(self) -> str:
        """The WebAuthn RP ID: configured, or the host name of the public origin (never the request Host)."""
        return self.passkey_rp_id or (urlsplit(self.origin).hostname or "localhost")

    def passkey_policy(self) -> PasskeyPolicy:
        return PasskeyPolicy(**{f.name: getattr(self, f.name) for f in fields(PasskeyPolicy)})

    def maintenance_policy(self) -> MaintenancePolicy:
        """The maintenance calendar's numbers for ``domain.maintenance``."""
        return MaintenancePolicy(
            weekly_weekday=self.maintenance_weekday,
            weekly_start_hour=self.maintenance_start_hour,
            weekly_end_hour=self.maintenance_end_hour,
            new_year_end_day=self.maintenance_new_year_end_day,
            new_year_end_hour=self.maintenance_new_year_end_hour,
            banner_lead_minutes=self.maintenance_banner_minutes,
        )

    def transfer_policy(self) -> TransferPolicy:
        """The transfer rules' numbers (amount unit and bounds, bank hours), built from the fields above."""
        try:
            return TransferPolicy(
                unit=self.transfer_unit, minimum=self.transfer_minimum, max_digits=self.transfer_max_digits,
                quick_picks=tuple(int(pick) for pick in self.transfer_quick_picks),
                bank_open_minute=self.bank_open_minute, bank_cutoff_minute=self.bank_cutoff_minute,
                morning_send_minute=self.bank_morning_send_minute, holder_name_max=self.payee_holder_name_max,
                changed_payee_hours=self.transfer_changed_payee_hours,
                changed_payee_cap=self.transfer_changed_payee_cap,
            )
        except (ValueError, TypeError) as error:
            raise SettingsError(f"お振込みの設定値が正しくありません: {error}") from None

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def dev_features(self) -> bool:
        """Developer conveniences (KAIIN_CLOCK, /dev/outbox) exist outside prod only."""
        return self.env != "prod"

    @property
    def data_path(self) -> Path:
        path = Path(self.data_dir)
        return path if path.is_absolute() else ROOT / path

    @property
    def origin(self) -> str:
        return self.public_origin or f"http://{self.host}:{self.port}"

    def resolved_secret_key(self) -> str:
        """The CSRF signing secret: from the environment, or a random one kept in the data folder (dev/test)."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_path / "secret_key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def repayment_policy(self) -> RepaymentPolicy:
        """Repayment, points and automatic-debit numbers for ``domain.repayment``."""
        return RepaymentPolicy(
            unit=self.repay_unit, minimum=self.repay_minimum, max_digits=self.repay_max_digits,
            point_yen=self.point_yen, interest_per_point=self.interest_per_point,
            projection_max_months=self.savings_projection_max_months,
            debit_instant_banks=self.debit_instant_banks, debit_pending_business_days=self.debit_pending_business_days,
            debit_fixed_due_day=self.debit_fixed_due_day,
        )

    def loan_policy(self) -> LoanPolicy:
        """The loan engine's numbers (``domain.policy.LoanPolicy``) from these fields; built once, and kept on the
        instance (asked for on every member request: the cache's key would hash every field each time)."""
        policy = self.__dict__.get("_loan_policy")
        if policy is None:
            policy = _loan_policy(self)
            object.__setattr__(self, "_loan_policy", policy)
        return policy

    def simulator_limits(self) -> SimulatorLimits:
        return SimulatorLimits(months_max=self.simulator_months_max, payment_unit=self.simulator_payment_unit,
                               input_max_chars=self.simulator_input_max_chars)
    def auth_policy(self) -> AuthPolicy:
        """Lockout, throttle, code and step-up numbers for ``domain.auth_policy``."""
        return AuthPolicy(**{f.name: getattr(self, f.name) for f in fields(AuthPolicy)})

    def credential_policy(self) -> CredentialPolicy:
        """Card, PIN, Web-ID and password formats for ``domain.credentials``."""
        return CredentialPolicy(**{f.name: getattr(self, f.name) for f in fields(CredentialPolicy)})

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    def profile_policy(self) -> ProfilePolicy:
        """Postcode, address, workplace, phone and email rules for ``domain.profile``."""
        return ProfilePolicy(
            postcode_digits=self.postcode_digits, address_max=self.address_max,
            workplace_name_max=self.workplace_name_max, phone_min_digits=self.phone_min_digits,
            phone_max_digits=self.phone_max_digits, email_max=self.email_max, raw_max=self.form_raw_max,
        )

    def strength_policy(self) -> StrengthPolicy:
        return StrengthPolicy(good_length=self.password_good_length, strong_length=self.password_strong_length)

    def reminder_policy(self) -> ReminderPolicy:
        """Reminder mail choices and defaults for ``domain.reminders``."""
        return ReminderPolicy(
            days_before_min=self.reminder_days_before_min, days_before_max=self.reminder_days_before_max,
            hour_min=self.reminder_hour_min, hour_max=self.reminder_hour_max,
            default_enabled=self.reminder_default_enabled, default_days_before=self.reminder_default_days_before,
            default_hour=self.reminder_default_hour,
        )


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(":"))


@functools.lru_cache(maxsize=8)
def _loan_policy(settings: Settings) -> LoanPolicy:
    try:
        return LoanPolicy(
            rate_min=settings.loan_rate_min, rate_max=settings.loan_rate_max,
            limit_min=settings.loan_limit_min, limit_max=settings.loan_limit_max,
            rate_cap_tiers=tuple(_ints(t) for t in settings.loan_rate_cap_tiers),  # type: ignore[misc]
            rate_cap_top=settings.loan_rate_cap_top, late_charge_rate=settings.loan_late_charge_rate,
            days_in_year=settings.loan_days_in_year, days_in_leap_year=settings.loan_days_in_leap_year,
            amount_due_tiers=tuple(_ints(t) for t in settings.loan_amount_due_tiers),  # type: ignore[misc]
            amount_due_top=settings.loan_amount_due_top, amount_due_unit=settings.loan_amount_due_unit,
            due_days=tuple(int(d) for d in settings.loan_due_days),
            first_due_rules=tuple(_ints(t) for t in settings.loan_first_due_rules),  # type: ignore[misc]
            interest_free_days=settings.loan_interest_free_days,
            closed_days=tuple(_ints(t) for t in settings.loan_closed_days),  # type: ignore[misc]
        )
    except ValueError as error:
        raise SettingsError(f"KAIIN_LOAN_* の値が正しくありません: {error}") from None


def _parse(f: dataclasses.Field, raw: str, name: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            return int(raw.strip())
        if kind == "bool":
            if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind.startswith("tuple[int"):
            return tuple(int(part.strip()) for part in raw.split(",") if part.strip())
        if kind.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError:
        raise SettingsError(f"{name} の値が正しくありません: {raw!r}") from None
