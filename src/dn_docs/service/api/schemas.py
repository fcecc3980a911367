"""The API's response and body models (what /openapi.json describes)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

DocumentState = Literal["queued", "rendering", "done", "failed", "cancelled"]
BatchState = Literal["staged", "queued", "running", "done", "failed", "cancelled"]
BatchFileName = Literal[
    "manifest.json", "errors.csv", "merged-consent.pdf", "merged-aftercare.pdf", "packets.pdf"
]
ID_PATTERN = r"^[0-9a-f]{32}$"


def binary_body(*media_types: str) -> dict[str, object]:
    """``openapi_extra`` for a route whose body is a file of one of ``media_types``."""
    schema = {"type": "string", "format": "binary"}
    return {
        "requestBody": {"required": True, "content": {m: {"schema": schema} for m in media_types}}
    }


class DocumentOut(BaseModel):
    """A document's metadata: no patient data."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["consent", "aftercare"]
    locale: str
    status: DocumentState
    error: str | None = None
    batch_id: str | None = None
    row: int | None = None
    pages: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None

    @computed_field(description="Where the PDF is, once status is done")  # type: ignore[prop-decorator]
    @property
    def pdf(self) -> str:
        return f"/v1/documents/{self.id}/pdf"


class RowProblem(BaseModel):
    row: int
    field: str
    reason: str


class BatchFileOut(BaseModel):
    name: BatchFileName
    media_type: str
    bytes: int
    url: str


class BatchOut(BaseModel):
    id: str
    status: BatchState
    input_format: Literal["csv", "xlsx", "jsonl"]
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    error: str | None = None
    documents: int = Field(description="Documents of the batch, all statuses")
    counts: dict[str, int] = Field(description="Documents by status")
    progress: float = Field(ge=0, le=1, description="Share of documents finished")
    invalid_rows: int
    row_errors: list[RowProblem]
    files: list[BatchFileOut]


class ClinicDetails(BaseModel):
    name: str
    address: str | None = None
    phone: str | None = None
    country: str
    language: str


class ClinicDetailsIn(BaseModel):
    name: str
    address: str | None = None
    phone: str
    country: str
    language: str = "en"


class PractitionerIn(BaseModel):
    name: str
    credentials: str
    license: str | None = None


class LogoOut(BaseModel):
    media_type: Literal["image/png", "image/jpeg"]
    sha256: str
    url: str


class ClinicOut(BaseModel):
    id: str
    clinic: ClinicDetails
    practitioners: list[PractitionerIn]
    default_locale: str | None = None
    retention_days: int
    logo: LogoOut | None = None


class ClinicIn(BaseModel):
    """The whole profile (PUT replaces it); the first practitioner is the default."""

    clinic: ClinicDetailsIn
    practitioners: list[PractitionerIn] = Field(default_factory=list, max_length=100)
    default_locale: str | None = None
    retention_days: int | None = Field(default=None, ge=1, le=3650)


class VerifyTextOut(BaseModel):
    matches_record: bool
    problems: list[str]
    pages: int


class VerifyOut(BaseModel):
    """The verdict of ``dn-docs verify``: ``status`` is intact, modified, unsigned or
    untrusted; ``seals`` says who sealed it, when, and what changed after."""

    status: Literal["intact", "modified", "unsigned", "untrusted"]
    problems: list[str]
    notes: list[str]
    seals: list[dict[str, Any]]
    text: VerifyTextOut | None = None
    signers: list[dict[str, Any]]
    generated_at: str | None = None
    text_sha256: str | None = None
    versions: dict[str, str]


class ContentItemOut(BaseModel):
    id: str
    category: str
    frequency: str | None = None
    applies: str
    documents: list[str]
    text: str
    citations: list[str]


class ContentOut(BaseModel):
    version: str
    items: list[ContentItemOut]


class LocaleOut(BaseModel):
    locale: str
    direction: Literal["ltr", "rtl"]
    translation_version: str


class AuditOut(BaseModel):
    at: dt.datetime
    actor: str
    action: str
    object_id: str | None = None


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]


SigningState = Literal["open", "sealing", "signed", "failed", "ended"]
SignerRoleName = Literal["patient", "guardian", "minor", "interpreter", "witness", "practitioner"]


class SigningSessionIn(BaseModel):
    """Start signing a finished consent on a tablet."""

    model_config = ConfigDict(extra="forbid")

    pin: str = Field(
        pattern=r"^[0-9]{4,12}$",
        description="4 to 12 digits: the practitioner enters it on the tablet to sign and to"
        " leave the patient's view",
    )
    witness: bool = Field(default=False, description="A witness signs too")
    return_to: str | None = Field(
        default=None,
        max_length=300,
        description="A path of this service the tablet goes to when the practitioner leaves it",
    )


class SignerOut(BaseModel):
    role: SignerRoleName
    signed_at: str
    method: Literal["drawn", "typed"]


class SigningSessionOut(BaseModel):
    """A signing session: who signs in which order, who has signed (roles, times and
    methods; no names), and the signed consent once it is sealed."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    document_id: str
    status: SigningState
    roles: list[SignerRoleName]
    signers: list[SignerOut]
    pin_attempts_left: int
    error: str | None = None
    created_at: dt.datetime
    expires_at: dt.datetime
    opened_at: dt.datetime | None = None
    signed_at: dt.datetime | None = None
    released_at: dt.datetime | None = None
    signed_sha256: str | None = None
    signed_bytes: int | None = None

    @computed_field(description="Where the signed PDF is, once status is signed")  # type: ignore[prop-decorator]
    @property
    def pdf(self) -> str:
        return f"/v1/signing-sessions/{self.id}/pdf"


class SigningStartedOut(SigningSessionOut):
    url: str = Field(
        description="The one-time link to open on the tablet: it works once, for the first"
        " browser that opens it, until the session expires"
    )
