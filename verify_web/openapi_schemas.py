"""The JSON Schemas (2020-12, as OpenAPI 3.1 takes them) of gimark's public API bodies.

Enums come from the code that produces the values, so the document cannot drift from the
answers: a test validates real responses against these schemas.
"""

from __future__ import annotations

from typing import Any, Final

from gimark.keys.models import KeyStatus
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.scanning.reasons import REASONS, VERDICTS
from gimark.trace.models import ProductKind
from gimark.verify_web.reports.services import LIMITS

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """A reference to a schema of this module."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


STRING: Final[Schema] = {"type": "string"}
INTEGER: Final[Schema] = {"type": "integer"}
WHEN: Final[Schema] = nullable({"type": "string", "format": "date-time"})

# A report's text fields, as JSON or as a form (which may add a photo).
_REPORT_FIELDS: Final[dict[str, Schema]] = {
    "code": {"type": "string", "maxLength": LIMITS.code_chars},
    "text": {"type": "string", "maxLength": LIMITS.text_chars},
    "contact": {"type": "string", "maxLength": LIMITS.contact_chars},
}

SCHEMAS: Final[dict[str, Schema]] = {
    "Words": _object(["code", "zh", "en"], code=STRING, zh=STRING, en=STRING),
    "Reason": _object(
        ["code", "zh", "en"],
        code={"type": "string", "enum": list(REASONS)},
        zh=STRING,
        en=STRING,
    ),
    "Region": _object(["code", "name_zh", "name_en"], code=STRING, name_zh=STRING, name_en=STRING),
    "Product": _object(
        ["name_zh", "name_en", "kind", "region", "reg_no", "holder"],
        id=INTEGER,
        name_zh=STRING,
        name_en=STRING,
        kind={"type": "string", "enum": [k.value for k in ProductKind]},
        region=nullable(ref("Region")),
        reg_no=nullable(STRING),
        holder=nullable(STRING),
    ),
    "Enterprise": _object(
        ["name", "uscc"],
        name=STRING,
        uscc={"type": "string", "description": "统一社会信用代码 (GB 32100-2015)"},
    ),
    "Batch": _object(
        ["id", "status"],
        id=INTEGER,
        status={"type": "string", "enum": [s.value for s in BatchStatus]},
        approved_at=WHEN,
        delivered_at=WHEN,
    ),
    "Scans": _object(
        ["count", "first_at", "first_region"],
        count={"type": "integer", "minimum": 0, "description": "distinct scanners"},
        total={"type": "integer", "minimum": 0, "description": "all scans"},
        first_at=WHEN,
        first_region=nullable(ref("Region")),
        last_at=WHEN,
    ),
    "Verify": _object(
        [
            "verdict",
            "verdict_text",
            "reasons",
            "serial",
            "product",
            "enterprise",
            "batch",
            "scans",
            "trace",
        ],
        verdict={"type": "string", "enum": list(VERDICTS)},
        verdict_text=ref("Words"),
        reasons={"type": "array", "items": ref("Reason")},
        serial=nullable({"type": "string", "description": "printed form, XXXX-XXXX-XXX"}),
        serial_number=nullable(INTEGER),
        typed={"type": "boolean", "description": "a typed serial, not a scanned code"},
        product=nullable(ref("Product")),
        enterprise=nullable(ref("Enterprise")),
        batch=nullable(ref("Batch")),
        scans=nullable(ref("Scans")),
        trace={"type": "array", "items": {"type": "object"}},
        recorded={
            "type": "boolean",
            "description": "false when nothing was recorded: the scan log was away, or the"
            " request was a HEAD, a link preview or a crawler (same verdict, not a scan)",
        },
    ),
    "Error": _object(["error"], error=ref("Words")),
    "ReportJson": {
        "type": "object",
        "properties": dict(_REPORT_FIELDS),
        "description": "text is required unless a photo is sent (multipart only)",
    },
    "ReportForm": {
        "type": "object",
        "properties": {
            **_REPORT_FIELDS,
            "photo": {"type": "string", "contentMediaType": "application/octet-stream"},
        },
    },
    "ReportReceived": _object(
        ["id", "status"], id=INTEGER, status={"type": "string", "const": "received"}
    ),
    "Jwk": _object(
        ["kty", "crv", "x", "kid"],
        kty={"const": "OKP"},
        crv={"const": "Ed25519"},
        x=STRING,
        kid=STRING,
        use={"const": "sig"},
        alg={"const": "EdDSA"},
        gimark_issuer=STRING,
        gimark_key_id={"type": "string", "pattern": "^[0-9A-F]{8}$"},  # upper-case hex
        gimark_status={"type": "string", "enum": [s.value for s in KeyStatus]},
        gimark_compromised_at={"type": "string", "format": "date-time"},
    ),
    "Jwks": _object(["keys"], keys={"type": "array", "items": ref("Jwk")}),
}
