"""Format writers for the synthetic operation: one module per evidence format, each with
``write(view: DeviceView, out: Path, seed: int) -> list[Path]``."""
