"""Writes a simulator scenario (JSON script, `simulate --scenario FILE`) of a gift-heavy stream.

The random scenario sends each streak as its final message only; a real stream sends every
step of a streak (1, 2, 5, ... then the final), several streaks interleaved, between chats,
likes and joins, in frames of one to a dozen messages. This script builds such a stream so
the corpus has streaks as TikTok sends them. Deterministic for a seed.

Usage: python3 streaks.py MESSAGES SEED > streaks.json
"""

import json
import random
import sys

# (id, name, diamonds, type): type 1 streaks, type 2 is sent once. The simulator's catalogue.
STREAKABLE = [(5655, "Rose", 1), (5487, "Finger Heart", 5), (5879, "Doughnut", 30), (6064, "GG", 1)]
SINGLE = [(11046, "Galaxy", 1000), (6369, "Lion", 29999)]
CHATS = ["!tnt", "!creeper", "hello!", "so many roses 🌹", "gg", "!spawn zombie", "where are you from?"]


def user(rng: random.Random) -> dict:
    n = rng.randrange(1, 3000)
    names = [f"Viewer {n}", f"✨ Sparkle {n} ✨", f"名前{n}さん", f"viewer_{n}_" + "x" * (n % 40)]
    return {"id": 6_910_000_000_000_000_000 + n, "unique_id": f"viewer_{n}", "nickname": names[n % 4]}


def main() -> None:
    total, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    open_streaks: list[dict] = []
    next_group = 7_395_000_000_000_000_000
    like_total = 5000
    steps: list[dict] = []
    sent = 0
    while sent < total:
        batch = []
        for _ in range(min(rng.choice([1, 1, 2, 3, 4, 6, 8, 12]), total - sent)):
            roll = rng.random()
            if roll < 0.55:
                # A streak step: continue an open streak, or start one (up to 6 at once).
                if open_streaks and (len(open_streaks) >= 6 or rng.random() < 0.7):
                    s = rng.choice(open_streaks)
                    s["count"] += rng.choice([1, 1, 2, 3])
                    final = s["count"] >= s["target"]
                    if final:
                        open_streaks.remove(s)
                else:
                    gid, name, diamonds = rng.choice(STREAKABLE)
                    s = {"user": user(rng), "gift": (gid, name, diamonds), "count": 1,
                         "target": rng.choice([1, 2, 5, 10, 20, 40]), "group": next_group}
                    next_group += 1
                    final = s["target"] <= 1
                    if not final:
                        open_streaks.append(s)
                gid, name, diamonds = s["gift"]
                batch.append({"type": "gift", "user": s["user"], "gift_id": gid, "name": name,
                              "diamond_count": diamonds, "gift_type": 1,
                              "repeat_count": s["count"], "repeat_end": final,
                              "group_id": s["group"]})
            elif roll < 0.60:
                gid, name, diamonds = rng.choice(SINGLE)
                batch.append({"type": "gift", "user": user(rng), "gift_id": gid, "name": name,
                              "diamond_count": diamonds, "gift_type": 2, "repeat_count": 1,
                              "repeat_end": False, "group_id": next_group})
                next_group += 1
            elif roll < 0.80:
                batch.append({"type": "chat", "user": user(rng), "content": rng.choice(CHATS)})
            elif roll < 0.92:
                count = rng.randrange(1, 16)
                like_total += count
                batch.append({"type": "like", "user": user(rng), "count": count, "total": like_total})
            else:
                batch.append({"type": "join", "user": user(rng)})
        sent += len(batch)
        steps.append({"step": "frame", "messages": batch})
    # The streaks still open end as TikTok ends them: with their final.
    for s in open_streaks:
        gid, name, diamonds = s["gift"]
        steps.append({"step": "frame", "messages": [{
            "type": "gift", "user": s["user"], "gift_id": gid, "name": name,
            "diamond_count": diamonds, "gift_type": 1, "repeat_count": s["count"],
            "repeat_end": True, "group_id": s["group"]}]})
    steps.append({"step": "end_stream"})
    json.dump({"history": [], "steps": steps}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
