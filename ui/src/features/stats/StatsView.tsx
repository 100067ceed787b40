import { Coming } from "../../shared/Coming";
import { ViewHeader } from "../../shared/ViewHeader";

export function StatsView() {
  return (
    <>
      <ViewHeader title="Stats" subtitle="This stream at a glance." />
      <Coming title="Session stats">
        Diamonds, top gifters, gifts per minute and event totals.
      </Coming>
    </>
  );
}
