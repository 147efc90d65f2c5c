"""Train trtlab's small digit classifier and write ``data/models/digits_cnn.pt`` + its record.

Reproducible: fixed seed, one CPU thread, deterministic algorithms (see ``trtlab.digits.train``).
Takes well under a minute on 2 CPU cores. The JSON record beside the weights holds their sha256
(checked on every load), the seed, epochs, versions and the test accuracy measured right after.

    python tools/train_digits.py            # writes data/models/digits_cnn.pt and .json
    python tools/train_digits.py --check    # retrain; do the bytes match the shipped file?
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--out", type=Path, default=REPO / "data" / "models" / "digits_cnn.pt")
    ap.add_argument(
        "--check", action="store_true", help="compare with the existing file, write nothing"
    )
    args = ap.parse_args(argv)

    import sklearn
    import torch

    from trtlab import digits
    from trtlab._io import atomic_path

    t0 = time.perf_counter()
    model, losses = digits.train(seed=args.seed, epochs=args.epochs)
    seconds = time.perf_counter() - t0
    acc = digits.accuracy(digits.torch_predict(model))
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    data = buffer.getvalue()
    print(
        f"trained {args.epochs} epochs in {seconds:.1f} s; final loss {losses[-1]:.4f}; test {acc}"
    )
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(
            f"sha256 {hashlib.sha256(data).hexdigest()}: {'matches' if same else 'DIFFERS from'} "
            f"{args.out}"
        )
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        Path(tmp).write_bytes(data)
    meta = digits.record(
        args.out,
        seed=args.seed,
        epochs=args.epochs,
        train_seconds=round(seconds, 1),
        final_loss=round(losses[-1], 5),
        test_accuracy=round(acc.value, 5),
        test_correct=acc.correct,
        test_total=acc.total,
        torch=torch.__version__,
        sklearn=sklearn.__version__,
        python=platform.python_version(),
        command="python tools/train_digits.py",
    )
    with atomic_path(args.out.with_suffix(".json")) as tmp:
        Path(tmp).write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {args.out} ({len(data)} bytes) and {args.out.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
