import { Coming } from "../../shared/Coming";
import { ViewHeader } from "../../shared/ViewHeader";

export function ConnectView() {
  return (
    <>
      <ViewHeader title="Connect" subtitle="Join a TikTok LIVE stream and start triggering." />
      <section className="panel">
        <label className="field">
          <span>TikTok @username, live link or room id</span>
          <input id="connect-target" type="text" placeholder="@yourname" disabled />
        </label>
        <button type="button" className="primary" disabled>
          Connect
        </button>
      </section>
      <Coming title="Live connection">
        Connecting arrives with the TikTok LIVE client: live status, reconnects and the event feed
        will show here.
      </Coming>
    </>
  );
}
