"""A strict stand-in for TensorRT's *builder* API (10.x or 11.x surface), for CPU unit tests.

It refuses what real TensorRT refuses for the parts trtlab uses, so a misuse fails here the way it
would on a GPU machine (a permissive fake is how contract bugs slip through). The contract, as
documented by TensorRT (API reference, "Engine Compatibility", migration guide) and followed by
Polygraphy's ``backend/trt`` loaders and trtexec:

- ``BuilderFlag`` / ``NetworkDefinitionCreationFlag`` have exactly the members the stubs in
  ``typings/`` declare for that version: 11.x has no ``FP16``/``BF16``/``INT8`` flags and no
  ``EXPLICIT_BATCH``; on 10.x ``EXPLICIT_BATCH`` exists but is deprecated (a warning, no effect).
  ``create_network`` refuses bits that are not members.
- A ``STRONGLY_TYPED`` network takes its types from the graph: a build with a precision flag
  (FP16/BF16/INT8/FP8) set fails.
- Every dynamic network input must be covered by every optimization profile (min <= opt <= max,
  fixed dims equal), or the build fails; a profile naming a non-input is refused when added.
- Timing caches come from ``config.create_timing_cache(blob)``: a blob that is not a serialized
  cache of this version is refused, ``set_timing_cache`` returns False on a mismatch unless
  ``ignore_mismatch``; the builder adds its tactic timings to the cache object in place;
  ``ITimingCache.combine`` merges another cache into this one.
- ONNX nodes served by TensorRT's plugin library (``*_TRT`` ops) only parse after
  ``init_libnvinfer_plugins(logger, "")``.
- ``VERSION_COMPATIBLE`` plans embed the lean runtime unless ``EXCLUDE_LEAN_RUNTIME``; the
  latter is ignored (with a warning) without ``VERSION_COMPATIBLE``. Deserializing a plan with
  an embedded lean runtime needs ``runtime.engine_host_code_allowed = True`` (host code runs).
- Plans deserialize only with the TensorRT version that built them (``VERSION_COMPATIBLE``:
  same or later of the same major, or 10 -> 11).
- ``IProgressMonitor`` subclasses must call the base ``__init__``; ``Builder`` needs an
  ``ILogger``.

Every call is recorded in ``module.calls`` so tests check *what* trtlab asked of TensorRT.
"""

from __future__ import annotations

import enum
import importlib.machinery
import json
import types
from typing import Any

import onnx

PLAN_MAGIC = b"FAKE-ENGINE"
_TIMING_MAGIC = b"FAKE-TIMING-CACHE"
PRECISION_FLAGS = ("FP16", "BF16", "INT8", "FP8", "FP4", "INT4")

# Members per version, as declared by typings/tensorrt-10.13.3.9 and typings/tensorrt-11.4.0.106.
_BUILDER_FLAGS_COMMON = [
    "DEBUG",
    "DIRECT_IO",
    "DISABLE_COMPILATION_CACHE",
    "DISABLE_TIMING_CACHE",
    "EDITABLE_TIMING_CACHE",
    "ERROR_ON_TIMING_CACHE_MISS",
    "EXCLUDE_LEAN_RUNTIME",
    "GPU_FALLBACK",
    "REFIT",
    "SPARSE_WEIGHTS",
    "STRICT_NANS",
    "STRIP_PLAN",
    "TF32",
    "VERSION_COMPATIBLE",
    "WEIGHT_STREAMING",
]
_BUILDER_FLAGS_10 = [
    *_BUILDER_FLAGS_COMMON,
    "BF16",
    "FP16",
    "FP8",
    "FP4",
    "INT4",
    "INT8",
    "OBEY_PRECISION_CONSTRAINTS",
    "PREFER_PRECISION_CONSTRAINTS",
]


class _Enum(enum.IntEnum):
    pass


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def make_fake_trt(
    version: str = "10.13.3.9", *, fail_build: bool = False, parse_errors: int = 0
) -> Any:
    """A strict stand-in ``tensorrt`` module for ``version`` that records what it is asked."""
    major = int(version.split(".")[0])
    calls: dict[str, Any] = {
        "builds": 0,
        "flags_set": [],
        "flags_cleared": [],
        "profiles": [],
        "timing_blobs": [],
        "parsed": [],
        "network_flags": [],
        "plugins_initialized": [],
        "order": [],
    }
    mod = types.ModuleType("tensorrt")
    mod.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)  # find_spec() users (torch)
    mod.__version__ = version  # type: ignore[attr-defined]
    mod.calls = calls  # type: ignore[attr-defined]

    builder_flags = _BUILDER_FLAGS_10 if major < 11 else _BUILDER_FLAGS_COMMON
    BuilderFlag = _Enum("BuilderFlag", sorted(builder_flags), start=0)  # type: ignore[misc]
    net_names = ["STRONGLY_TYPED", "PREFER_AOT_PYTHON_PLUGINS", "PREFER_JIT_PYTHON_PLUGINS"]
    if major < 11:
        net_names = ["EXPLICIT_BATCH", *net_names]
    NetFlag = _Enum("NetworkDefinitionCreationFlag", net_names, start=0)  # type: ignore[misc]
    mod.BuilderFlag = BuilderFlag  # type: ignore[attr-defined]
    mod.NetworkDefinitionCreationFlag = NetFlag  # type: ignore[attr-defined]
    mod.MemoryPoolType = _Enum("MemoryPoolType", ["WORKSPACE"], start=0)  # type: ignore[attr-defined]
    mod.ProfilingVerbosity = _Enum(  # type: ignore[attr-defined]
        "ProfilingVerbosity", ["LAYER_NAMES_ONLY", "NONE", "DETAILED"], start=0
    )
    mod.LayerInformationFormat = _Enum("LayerInformationFormat", ["ONELINE", "JSON"], start=0)  # type: ignore[attr-defined]

    class ILogger:
        Severity = _Enum(
            "Severity", ["INTERNAL_ERROR", "ERROR", "WARNING", "INFO", "VERBOSE"], start=0
        )

        def __init__(self) -> None:
            pass

    Sev = ILogger.Severity

    class IProgressMonitor:
        def __init__(self) -> None:
            self._base_initialized = True

    def init_libnvinfer_plugins(logger: Any, namespace: str) -> bool:
        if not isinstance(logger, ILogger):
            raise TypeError("init_libnvinfer_plugins(): incompatible function arguments (logger)")
        calls["plugins_initialized"].append(namespace)
        calls["order"].append("init_plugins")
        return True

    class Tensor:
        def __init__(self, name: str, shape: list[int], dtype: str) -> None:
            self.name, self.shape = name, shape
            self.dtype = types.SimpleNamespace(name=dtype)

    class Network:
        def __init__(self, flags: int) -> None:
            self.flags = flags
            self.inputs: list[Tensor] = []
            self.outputs: list[Tensor] = []
            self.strongly_typed = bool(flags & (1 << int(NetFlag.STRONGLY_TYPED)))

        num_inputs = property(lambda self: len(self.inputs))
        num_outputs = property(lambda self: len(self.outputs))

        def get_input(self, i: int) -> Tensor:
            return self.inputs[i]

        def get_output(self, i: int) -> Tensor:
            return self.outputs[i]

    def _tensor(value: Any) -> Tensor:
        dims = [
            d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim
        ]
        elem = onnx.TensorProto.DataType.Name(value.type.tensor_type.elem_type)
        return Tensor(value.name, dims, elem)

    class ParserError:
        def __init__(self, i: int, desc: str = "", node_op: str = "Foo") -> None:
            self.i, self._desc, self._op = i, desc, node_op

        def node(self) -> int:
            return 3 + self.i

        def node_name(self) -> str:
            return f"/bad{self.i}"

        def node_operator(self) -> str:
            return self._op

        def desc(self) -> str:
            return self._desc or f"unsupported op #{self.i}"

        def code(self) -> Any:
            return types.SimpleNamespace(name="UNSUPPORTED_NODE")

    class OnnxParser:
        def __init__(self, network: Network, logger: Any) -> None:
            if not isinstance(network, Network):
                raise TypeError("OnnxParser needs an INetworkDefinition")
            self.network, self.logger = network, logger
            self.errors: list[ParserError] = []

        def parse_from_file(self, path: str) -> bool:
            model = onnx.load(path)
            calls["order"].append("parse")
            calls["parsed"].append(
                {"path": path, "init_types": sorted({t.data_type for t in model.graph.initializer})}
            )
            if parse_errors:
                self.errors = [ParserError(i) for i in range(parse_errors)]
                self.logger.log(Sev.ERROR, "parser: giving up")
                return False
            plugin_ops = [n.op_type for n in model.graph.node if n.op_type.endswith("_TRT")]
            if plugin_ops and not calls["plugins_initialized"]:
                self.errors = [
                    ParserError(
                        0,
                        f"Plugin not found, are the plugin name, version, and "
                        f"namespace correct? ({plugin_ops[0]})",
                        plugin_ops[0],
                    )
                ]
                self.logger.log(Sev.ERROR, "getPluginCreator could not find plugin")
                return False
            inits = {t.name for t in model.graph.initializer}
            self.network.inputs = [_tensor(v) for v in model.graph.input if v.name not in inits]
            self.network.outputs = [_tensor(v) for v in model.graph.output]
            return True

        num_errors = property(lambda self: len(self.errors))

        def get_error(self, i: int) -> ParserError:
            return self.errors[i]

    class Profile:
        def __init__(self) -> None:
            self.shapes: dict[str, tuple[Any, ...]] = {}

        def set_shape(self, name: str, lo: Any, opt: Any, hi: Any) -> None:
            self.shapes[name] = (tuple(lo), tuple(opt), tuple(hi))

    class ITimingCache:
        def __init__(self, entries: set[str], cache_version: str) -> None:
            self.entries = set(entries)
            self.version = cache_version

        def serialize(self) -> bytes:
            body = json.dumps({"version": self.version, "entries": sorted(self.entries)})
            return _TIMING_MAGIC + body.encode()

        def combine(self, input_cache: ITimingCache, ignore_mismatch: bool) -> bool:
            if not isinstance(input_cache, ITimingCache):
                raise TypeError("combine(): incompatible function arguments")
            if input_cache.version != self.version and not ignore_mismatch:
                return False
            self.entries |= input_cache.entries
            calls.setdefault("combined", []).append(len(input_cache.entries))
            return True

    class Config:
        def __init__(self) -> None:
            self.pool: dict[Any, int] = {}
            self.flags: set[str] = set()
            self.builder_optimization_level = 3
            self.profiling_verbosity = mod.ProfilingVerbosity.LAYER_NAMES_ONLY  # type: ignore[attr-defined]
            self._progress_monitor: Any = None
            self.profiles: list[Profile] = []
            self.timing: ITimingCache | None = None
            self.network: Network | None = None

        @property
        def progress_monitor(self) -> Any:
            return self._progress_monitor

        @progress_monitor.setter
        def progress_monitor(self, monitor: Any) -> None:
            if monitor is not None and not (
                isinstance(monitor, IProgressMonitor) and getattr(monitor, "_base_initialized", 0)
            ):
                raise TypeError("progress_monitor must be an initialized IProgressMonitor")
            self._progress_monitor = monitor

        def set_memory_pool_limit(self, pool: Any, size: int) -> None:
            self.pool[pool] = size

        def set_flag(self, flag: Any) -> None:
            if not isinstance(flag, BuilderFlag):
                raise TypeError(f"set_flag(): incompatible function arguments ({flag!r})")
            self.flags.add(flag.name)
            calls["flags_set"].append(flag.name)

        def clear_flag(self, flag: Any) -> None:
            if not isinstance(flag, BuilderFlag):
                raise TypeError(f"clear_flag(): incompatible function arguments ({flag!r})")
            self.flags.discard(flag.name)
            calls["flags_cleared"].append(flag.name)

        def get_flag(self, flag: Any) -> bool:
            return flag.name in self.flags

        def add_optimization_profile(self, profile: Profile) -> int:
            for lo, opt, hi in profile.shapes.values():
                if len({len(lo), len(opt), len(hi)}) != 1 or not all(
                    a <= b <= c for a, b, c in zip(lo, opt, hi, strict=True)
                ):
                    return -1  # TensorRT: an invalid profile is not added
            self.profiles.append(profile)
            calls["profiles"].append(profile.shapes)
            return len(self.profiles) - 1

        def create_timing_cache(self, blob: bytes) -> ITimingCache | None:
            blob = bytes(blob)
            calls["timing_blobs"].append(blob)
            if not blob:
                return ITimingCache(set(), version)
            if not blob.startswith(_TIMING_MAGIC):
                return None  # TensorRT logs an error and returns no cache
            data = json.loads(blob[len(_TIMING_MAGIC) :])
            return ITimingCache(set(data["entries"]), str(data["version"]))

        def set_timing_cache(self, cache: ITimingCache, ignore_mismatch: bool) -> bool:
            if not isinstance(cache, ITimingCache):
                raise TypeError("set_timing_cache(): incompatible function arguments")
            if cache.version != version and not ignore_mismatch:
                return False
            self.timing = cache
            return True

        def get_timing_cache(self) -> ITimingCache | None:
            return self.timing

    def _profile_problem(network: Network, config: Config) -> str | None:
        dynamic = [t for t in network.inputs if any(d < 0 for d in t.shape)]
        names = {t.name for t in network.inputs}
        if dynamic and not config.profiles:
            return (
                "Error Code 4: API Usage Error (Network has dynamic or shape inputs, but no "
                "optimization profile has been defined.)"
            )
        for index, profile in enumerate(config.profiles):
            unknown = sorted(set(profile.shapes) - names)
            if unknown:
                return f"Error Code 3: API Usage Error (profile {index}: {unknown} not inputs)"
            for t in dynamic:
                if t.name not in profile.shapes:
                    return (
                        f"Error Code 4: API Usage Error (Optimization profile {index} does not "
                        f"define dimensions for dynamic input {t.name})"
                    )
            for t in network.inputs:
                if t.name not in profile.shapes:
                    continue
                for which in profile.shapes[t.name]:
                    if len(which) != len(t.shape) or any(
                        d >= 0 and w != d for w, d in zip(which, t.shape, strict=False)
                    ):
                        return f"Error Code 4: profile {index} shape {which} mismatches {t.name}"
        return None

    class Builder:
        def __init__(self, logger: Any) -> None:
            if not isinstance(logger, ILogger):
                raise TypeError("Builder needs an ILogger")
            self.logger = logger

        def create_network(self, flags: int = 0) -> Network:
            known = 0
            for member in NetFlag:
                known |= 1 << int(member)
            if flags & ~known:
                raise ValueError(
                    f"create_network(): unknown NetworkDefinitionCreationFlag bits {flags}"
                )
            if major < 11 and flags & (1 << int(NetFlag.EXPLICIT_BATCH)):  # type: ignore[attr-defined]
                self.logger.log(Sev.WARNING, "kEXPLICIT_BATCH is deprecated and has no effect")
            calls["network_flags"].append(flags)
            calls["order"].append("create_network")
            return Network(flags)

        def create_builder_config(self) -> Config:
            return Config()

        def create_optimization_profile(self) -> Profile:
            return Profile()

        def build_serialized_network(self, network: Network, config: Config) -> bytes | None:
            calls["builds"] += 1
            hook = calls.pop("on_build", None)  # tests: run something while this build runs
            if hook is not None:
                hook()
            calls["config"] = config
            monitor = config.progress_monitor
            if monitor is not None:
                monitor.phase_start("Building engine", None, 3)
                monitor.phase_start("Tactic timing", "Building engine", 2)
                for step in range(2):
                    if not monitor.step_complete("Tactic timing", step):
                        return None
                monitor.phase_finish("Tactic timing")
                monitor.step_complete("Building engine", 0)
                monitor.phase_finish("Building engine")
            if network.strongly_typed:
                bad = sorted(config.flags & set(PRECISION_FLAGS))
                if bad:
                    self.logger.log(
                        Sev.ERROR,
                        f"Error Code 3: API Usage Error (precision flags {bad} are not allowed "
                        "with a strongly typed network)",
                    )
                    return None
            problem = _profile_problem(network, config)
            if problem:
                self.logger.log(Sev.ERROR, problem)
                return None
            if fail_build:
                self.logger.log(Sev.ERROR, "Error Code 4: Internal Error (no tactic)")
                return None
            vc = "VERSION_COMPATIBLE" in config.flags
            if "EXCLUDE_LEAN_RUNTIME" in config.flags and not vc:
                self.logger.log(
                    Sev.WARNING, "kEXCLUDE_LEAN_RUNTIME is ignored without kVERSION_COMPATIBLE"
                )
            if config.timing is not None:
                config.timing.entries.add(
                    f"{'x'.join(map(str, network.inputs[0].shape)) if network.inputs else ''}"
                    f":{sorted(config.flags)}"
                )
            summary = {
                "flags": {
                    "network": network.flags,
                    "pool": {k.name: v for k, v in config.pool.items()},
                },
                "level": config.builder_optimization_level,
                "verbosity": config.profiling_verbosity.name,
                "builder_flags": sorted(config.flags),
                "version": version,
                "version_compatible": vc,
                "lean_runtime_embedded": vc and "EXCLUDE_LEAN_RUNTIME" not in config.flags,
            }
            return PLAN_MAGIC + json.dumps(summary).encode()

    class Inspector:
        def __init__(self, summary: dict[str, Any]) -> None:
            self.summary = summary

        def get_engine_information(self, fmt: Any) -> str:
            return json.dumps(
                {"Layers": [{"Name": "fake", "Flags": self.summary["builder_flags"]}]}
            )

    class CudaEngine:
        def __init__(self, summary: dict[str, Any]) -> None:
            self.summary = summary

        def create_engine_inspector(self) -> Inspector:
            return Inspector(self.summary)

    class Runtime:
        def __init__(self, logger: Any) -> None:
            if not isinstance(logger, ILogger):
                raise TypeError("Runtime needs an ILogger")
            self.logger = logger
            self.engine_host_code_allowed = False

        def deserialize_cuda_engine(self, data: bytes) -> CudaEngine | None:
            data = bytes(data)
            if not data.startswith(PLAN_MAGIC):
                self.logger.log(Sev.ERROR, "Serialization assertion failed: magic tag mismatch")
                return None
            summary = json.loads(data[len(PLAN_MAGIC) :])
            built, here = _version_tuple(summary["version"]), _version_tuple(version)
            if summary["version_compatible"]:
                ok = here >= built and (built[0] == here[0] or (built[0], here[0]) == (10, 11))
            else:
                ok = built == here
            if not ok:
                self.logger.log(
                    Sev.ERROR,
                    "Serialization assertion stdVersionRead == kSERIALIZATION_VERSION failed",
                )
                return None
            if summary["lean_runtime_embedded"] and not self.engine_host_code_allowed:
                self.logger.log(
                    Sev.ERROR,
                    "Error Code 1: the plan embeds host code (lean runtime); set "
                    "engine_host_code_allowed to deserialize it",
                )
                return None
            return CudaEngine(summary)

    mod.ILogger = ILogger  # type: ignore[attr-defined]
    mod.IProgressMonitor = IProgressMonitor  # type: ignore[attr-defined]
    mod.Builder = Builder  # type: ignore[attr-defined]
    mod.OnnxParser = OnnxParser  # type: ignore[attr-defined]
    mod.Runtime = Runtime  # type: ignore[attr-defined]
    mod.ITimingCache = ITimingCache  # type: ignore[attr-defined]
    mod.init_libnvinfer_plugins = init_libnvinfer_plugins  # type: ignore[attr-defined]
    return mod


def plan_summary(engine: bytes) -> dict[str, Any]:
    """What the fake builder recorded in a plan it produced."""
    assert engine.startswith(PLAN_MAGIC), "not a fake plan"
    return dict(json.loads(engine[len(PLAN_MAGIC) :]))
