"""Event-driven propagation kernels: :func:`event_matvec` over dense, CSR and
procedural connectivity (C++ FFI kernel on CPU, pure JAX everywhere)."""
from .event import event_matvec, ffi_available

__all__ = ["event_matvec", "ffi_available"]
