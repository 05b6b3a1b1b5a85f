"""llama.cpp's side of the latency benchmark, run by evals/latency.py in the benchmark's own
environment (python -m evals.llamacpp_env creates it), never in the desk's.

    var/llamacpp-venv/bin/python evals/llamacpp_bench.py < job.json > result.json

Reads {"gguf", "prompts", "max_tokens", "threads"} and prints, per prompt, the time to the
first token, the tokens generated and the time spent generating them. Standalone on
purpose: that environment has llama-cpp-python and nothing of the desk.
"""

import json
import sys
import time


def main() -> None:
    from llama_cpp import Llama

    job = json.load(sys.stdin)
    llm = Llama(model_path=job["gguf"], n_ctx=2048, n_threads=job["threads"], n_batch=512,
                verbose=False)
    results = []
    for prompt in job["prompts"]:
        started = time.perf_counter()
        stamps, text = [], ""
        for chunk in llm.create_completion(prompt, max_tokens=job["max_tokens"], temperature=0.0,
                                           stream=True):
            stamps.append(time.perf_counter())
            text += chunk["choices"][0]["text"]
        results.append({"ttft_s": stamps[0] - started if stamps else None,
                        # A chunk is usually one token; count the text's tokens to be exact.
                        "tokens": len(llm.tokenize(text.encode(), add_bos=False, special=True)),
                        "text": text,
                        "decode_s": stamps[-1] - stamps[0] if len(stamps) > 1 else None,
                        "prompt_tokens": len(llm.tokenize(prompt.encode(), special=True))})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
