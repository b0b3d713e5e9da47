"""Reading files: tables (CSV, Parquet, Excel), models (safely), fingerprints."""

from .tables import MAX_TABLE_BYTES, fingerprint, load_table

__all__ = ["MAX_TABLE_BYTES", "fingerprint", "load_table"]
