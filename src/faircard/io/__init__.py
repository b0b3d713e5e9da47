"""Reading files: tables (CSV, Parquet, Excel), models (safely), fingerprints."""

from .tables import (
    DETECT,
    ENCODING_CHOICES,
    MAX_TABLE_BYTES,
    TableLimits,
    TableRead,
    fingerprint,
    load_table,
    read_table,
)

__all__ = ["DETECT", "ENCODING_CHOICES", "MAX_TABLE_BYTES", "TableLimits", "TableRead",
           "fingerprint", "load_table", "read_table"]
