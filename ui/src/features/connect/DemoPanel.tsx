import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, errorMessage, type DemoView } from "../../ipc";

/** "Try the demo stream": no TikTok account or Minecraft server needed. */
export function DemoPanel({ live }: { live: boolean }) {
  const queryClient = useQueryClient();
  const demo = useQuery({ queryKey: ["demo"], queryFn: commands.demoStatus });
  const toggle = useMutation({
    mutationFn: (start: boolean): Promise<DemoView> =>
      start ? commands.demoStart() : commands.demoStop(),
    onSuccess: (view) => {
      queryClient.setQueryData(["demo"], view);
    },
  });
  const running = demo.data?.running ?? false;
  return (
    <section className="panel" aria-label="Demo stream">
      <div className="panel-title">
        <h2>Try it without TikTok</h2>
        {running && <span className="badge">demo running</span>}
      </div>
      <p className="muted">
        A built-in stream with gifts, follows, likes and chat commands — some from viewers with
        nasty names — runs through your rules. Without a Minecraft server set up, commands run dry:
        the queue shows what would be sent.
      </p>
      <div className="row">
        <button
          id="demo-button"
          type="button"
          className={running ? "secondary" : "primary"}
          disabled={toggle.isPending}
          data-running={running}
          onClick={() => {
            toggle.mutate(!running);
          }}
        >
          {toggle.isPending
            ? running
              ? "Stopping…"
              : "Starting…"
            : running
              ? "Stop the demo stream"
              : "Try the demo stream"}
        </button>
        {running && live && <span className="ok">Connected to the demo stream.</span>}
      </div>
      {toggle.error && (
        <p className="error" role="alert" id="demo-error">
          {errorMessage(toggle.error)}
        </p>
      )}
    </section>
  );
}
