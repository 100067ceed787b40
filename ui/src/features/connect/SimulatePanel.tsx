import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { commands, errorMessage, type SimulateRequest } from "../../ipc";

/** Fires test events through the real pipeline (rules, lanes, RCON, sound). */
export function SimulatePanel() {
  const catalog = useQuery({ queryKey: ["gift-catalog"], queryFn: commands.giftCatalog });
  const gifts = catalog.data?.gifts ?? [];
  const [giftId, setGiftId] = useState<number | null>(null);
  const [countText, setCountText] = useState("5");
  const count = Math.max(1, Math.floor(Number(countText)) || 1);
  const [likes, setLikes] = useState(100);
  const [chat, setChat] = useState("!tnt");
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const gift = gifts.find((g) => g.id === giftId) ?? gifts[0];

  function fire(request: SimulateRequest, what: string) {
    setMsg(null);
    commands.simulate({ request }).then(
      () => {
        setMsg({ ok: true, text: `Sent ${what}. See the Log and the Queue.` });
      },
      (e: unknown) => {
        setMsg({ ok: false, text: errorMessage(e) });
      },
    );
  }

  return (
    <section className="panel" aria-label="Simulate">
      <div className="panel-title">
        <h2>Simulate</h2>
        <span className="badge">test events</span>
      </div>
      <p className="muted">Marked as coming from “Test viewer” in the log and the queue.</p>
      <div className="row">
        <select
          id="sim-gift"
          aria-label="Gift to send"
          value={gift?.id ?? ""}
          onChange={(e) => {
            setGiftId(Number(e.target.value));
          }}
        >
          {gifts.length === 0 && <option value="">Loading gifts…</option>}
          {gifts.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name} ({g.diamondCount} coins)
            </option>
          ))}
        </select>
        <input
          id="sim-count"
          type="number"
          min={1}
          max={10000}
          aria-label="How many"
          value={countText}
          onChange={(e) => {
            setCountText(e.target.value);
          }}
        />
        <button
          id="sim-gift-button"
          type="button"
          className="secondary"
          disabled={!gift}
          onClick={() => {
            if (gift)
              fire(
                {
                  kind: "gift",
                  giftId: gift.id,
                  name: gift.name,
                  coins: gift.diamondCount,
                  count,
                  streak: gift.streakable,
                },
                `${gift.name} ×${count}${gift.streakable ? " as a streak" : ""}`,
              );
          }}
        >
          Send gift
        </button>
      </div>
      <div className="row">
        <button
          id="sim-follow"
          type="button"
          className="secondary"
          onClick={() => {
            fire({ kind: "follow" }, "a follow");
          }}
        >
          Follow
        </button>
        <input
          type="number"
          min={1}
          aria-label="Likes in the burst"
          value={likes}
          onChange={(e) => {
            setLikes(Math.max(1, Number(e.target.value) || 1));
          }}
        />
        <button
          id="sim-likes"
          type="button"
          className="secondary"
          onClick={() => {
            fire({ kind: "likes", count: likes, total: likes }, `${likes} likes`);
          }}
        >
          Likes burst
        </button>
        <input
          type="text"
          aria-label="Chat message"
          value={chat}
          onChange={(e) => {
            setChat(e.target.value);
          }}
        />
        <button
          id="sim-chat"
          type="button"
          className="secondary"
          disabled={chat.trim() === ""}
          onClick={() => {
            fire({ kind: "chat", text: chat.trim() }, `the chat message “${chat.trim()}”`);
          }}
        >
          Chat
        </button>
      </div>
      {msg && (
        <p role="status" id="sim-message" className={msg.ok ? "ok" : "error"}>
          {msg.text}
        </p>
      )}
    </section>
  );
}
