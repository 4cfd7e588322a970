# Allocation-heavy Python workload for the real-program test (scripts/test.d/70-real-programs.sh):
# dicts, lists, sets, strings, bytes, json, sorting, object churn and cyclic garbage. Prints a
# digest of everything it built, so a run under LD_PRELOAD=librayalloc.so must print exactly
# what a plain run prints.
import hashlib
import json
import random


class Node:
    __slots__ = ("key", "children", "parent", "payload")

    def __init__(self, key, parent=None):
        self.key = key
        self.parent = parent
        self.children = []
        self.payload = ("n%d" % key) * (key % 7 + 1)


def build_tree(rng, n):
    nodes = [Node(0)]
    for i in range(1, n):
        parent = nodes[rng.randrange(len(nodes))]
        child = Node(i, parent)
        parent.children.append(child)  # cycles through .parent: work for the gc
        nodes.append(child)
    return nodes


def main():
    rng = random.Random(12345)
    h = hashlib.sha256()
    for round_ in range(6):
        words = ["".join(chr(97 + rng.randrange(26)) for _ in range(rng.randrange(1, 24)))
                 for _ in range(60000)]
        counts = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:50]
        h.update(repr(top).encode())
        doc = {"round": round_, "words": words[:5000],
               "nested": [{"i": i, "s": str(i) * (i % 13), "l": list(range(i % 50))}
                          for i in range(3000)]}
        text = json.dumps(doc, sort_keys=True)
        back = json.loads(text)
        h.update(hashlib.sha256(json.dumps(back, sort_keys=True).encode()).digest())
        nodes = build_tree(rng, 40000)
        depth = 0
        for nd in nodes[::97]:
            d, p = 0, nd
            while p.parent is not None:
                p, d = p.parent, d + 1
            depth += d
        h.update(str(depth).encode())
        del nodes
        blob = bytearray()
        for i in range(20000):
            blob += bytes([i % 251]) * (i % 40)
        h.update(hashlib.sha256(bytes(blob)).digest())
        s = set(range(0, 300000, 3)) ^ set(range(0, 300000, 5))
        h.update(str(len(s)).encode())
        strs = []
        acc = ""
        for i in range(20000):
            acc += str(i)
            if len(acc) > 1000:
                strs.append(acc)
                acc = acc[500:]
        h.update(str(sum(len(x) for x in strs)).encode())
    print("python alloc_heavy digest", h.hexdigest())


main()
