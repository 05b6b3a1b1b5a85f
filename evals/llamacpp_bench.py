"""llama.cpp's side of the latency benchmark, run by evals/latency.py in the benchmark's own
environment (python -m evals.llamacpp_env creates it), never in the desk's.

    var/llamacpp-venv/bin/python evals/llamacpp_bench.py < job.json > result.json

Reads {"gguf", "prompts", "max_tokens", "threads"} and prints, per prompt, the time to the
first token, the tokens generated and the time spent generating them, and the process's
peak resident memory. It runs llama.cpp's
own server in this process (xllamacpp: prebuilt llama.cpp wheels with the server's API),
greedy, one slot, the prompt cache off so every prompt is prefilled whole. Standalone on
purpose: that environment has xllamacpp and nothing of the desk.
"""

import json
import resource
import sys
import time


def main() -> None:
    import xllamacpp

    job = json.load(sys.stdin)
    params = xllamacpp.CommonParams()
    params.model.path = job["gguf"]
    params.n_ctx = 2048
    params.n_batch = 512
    params.n_parallel = 1
    params.cpuparams.n_threads = job["threads"]
    params.cpuparams_batch.n_threads = job["threads"]
    server = xllamacpp.Server(params)
    results = []
    for prompt in job["prompts"]:
        stamps, pieces, usage = [], [], {}

        def on_chunk(chunk):
            choice = chunk["choices"][0]
            if choice["text"]:
                stamps.append(time.perf_counter())
                pieces.append(choice["text"])
            usage.update(chunk.get("usage") or {})
            return False  # go on

        started = time.perf_counter()
        server.handle_completions({"prompt": prompt, "n_predict": job["max_tokens"], "temperature": 0,
                                   "stream": True, "cache_prompt": False, "stream_options": {"include_usage": True}},
                                  on_chunk)
        results.append({"ttft_s": stamps[0] - started if stamps else None,
                        "tokens": usage.get("completion_tokens", len(stamps)),
                        "text": "".join(pieces),
                        "decode_s": stamps[-1] - stamps[0] if len(stamps) > 1 else None,
                        "prompt_tokens": usage.get("prompt_tokens")})
    json.dump({"results": results, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
              sys.stdout)


if __name__ == "__main__":
    main()
