"""llama.cpp's OpenAI-compatible HTTP server on a GGUF file, run in the llama.cpp environment
(python -m evals.llamacpp_env creates it), never in the desk's:

    var/llamacpp-venv/bin/python evals/llamacpp_server.py --gguf var/models/files/MODEL.gguf \\
        --port 8081 [--parallel 4] [--ctx 8192] [--threads 2] [--lora ADAPTER.gguf] [--lifetime 3600]

The desk talks to it with CHATBOT_GENERATOR=openai CHATBOT_OPENAI_BASE_URL=http://127.0.0.1:8081/v1.
It prints `listening on URL` once the model is loaded, and stops itself after --lifetime
seconds, on SIGTERM/SIGINT, or when the process that started it goes away (a test run or the
rig that died leaves no server behind). Standalone on purpose: that environment has xllamacpp
and nothing of the desk. Adapters given with --lora (`python -m finetune export NAME --format
gguf` writes NAME.gguf) are known by their file's name: the desk turns the one it asks for on
per request (chatbot/llm/server.py); a client that does not say gets them all applied.
"""

import argparse
import os
import signal
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=4, help="answers decoded together (server slots)")
    parser.add_argument("--ctx", type=int, default=8192, help="context for all slots together")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--lora", action="append", default=[], help="a GGUF LoRA adapter NAME.gguf (repeatable)")
    parser.add_argument("--alias", default="", help="the model name /v1/models reports")
    parser.add_argument("--lifetime", type=float, default=3600,
                        help="seconds before it stops itself; 0: never (a service manager runs it)")
    parser.add_argument("--detached", action="store_true",
                        help="keep serving when the starting process exits (evals.stack; --lifetime still holds)")
    args = parser.parse_args()

    import xllamacpp

    started_by = os.getppid()
    params = xllamacpp.CommonParams()
    params.model.path = args.gguf
    params.hostnames = [args.host]
    params.port = args.port
    params.n_parallel = args.parallel
    params.n_ctx = args.ctx
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.endpoint_metrics = True  # /metrics: tokens predicted, so a test can see generation stop
    if args.alias:
        params.model_alias = {args.alias}
    adapters = []
    for path in args.lora:
        adapter = xllamacpp.CommonAdapterLoraInfo()
        adapter.path, adapter.scale = path, 1.0
        adapters.append(adapter)
    params.lora_adapters = adapters
    server = xllamacpp.Server(params)  # loads the model, then serves HTTP on its own threads
    print(f"listening on {server.listening_address}", flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: stop.append("SIGINT"))
    deadline = time.monotonic() + args.lifetime if args.lifetime > 0 else float("inf")
    while not stop and time.monotonic() < deadline and (args.detached or os.getppid() == started_by):
        time.sleep(0.5)
    print(f"stopping ({stop[0] if stop else 'lifetime over' if time.monotonic() >= deadline else 'parent gone'})",
          flush=True)
    sys.stdout.flush()
    os._exit(0)  # the server's threads are not joinable from Python; the process ending stops them


if __name__ == "__main__":
    main()
