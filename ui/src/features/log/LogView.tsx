import { Coming } from "../../shared/Coming";
import { ViewHeader } from "../../shared/ViewHeader";

export function LogView() {
  return (
    <>
      <ViewHeader
        title="Log"
        subtitle="Gifts, follows, likes, shares, joins and chat as they arrive."
      />
      <Coming title="Live event log">
        A filterable live feed of stream events and what each one triggered.
      </Coming>
    </>
  );
}
