"""Field terms: one physics term per file, each reading like its energy."""

from neuralmag.field_terms.exchange import ExchangeField
from neuralmag.field_terms.field_term import FieldTerm

__all__ = ["FieldTerm", "ExchangeField"]
