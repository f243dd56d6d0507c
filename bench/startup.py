"""Where a model's start-up time goes, in a fresh Python: the imports, then each component's load.

Run by bench.run as `python -m bench.startup MODEL`; prints one JSON object. The server's own part (CLI,
Sanic, channels) is the rest of the measured time to first answer, which bench.run computes.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from typing import Any


def main() -> None:
    started = time.perf_counter()
    import rasa.core.agent
    import rasa.server
    import spacy  # noqa: F401
    import tensorflow  # noqa: F401
    from rasa.engine import graph

    imports_s = time.perf_counter() - started
    components: defaultdict[str, float] = defaultdict(float)
    load_component = graph.GraphNode._load_component

    def timed(node: graph.GraphNode, **kwargs: Any) -> None:
        begun = time.perf_counter()
        load_component(node, **kwargs)
        components[node._component_class.__name__] += time.perf_counter() - begun

    graph.GraphNode._load_component = timed  # type: ignore[method-assign]
    begun = time.perf_counter()
    rasa.core.agent.Agent.load(sys.argv[1])
    agent_s = time.perf_counter() - begun
    print(
        json.dumps(
            {
                "imports_s": round(imports_s, 1),
                "agent_load_s": round(agent_s, 1),
                "components_s": {name: round(seconds, 2) for name, seconds in components.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
