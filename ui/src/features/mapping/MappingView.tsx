import { Coming } from "../../shared/Coming";
import { ViewHeader } from "../../shared/ViewHeader";

export function MappingView() {
  return (
    <>
      <ViewHeader title="Mapping" subtitle="Drag gifts onto actions: commands and sounds." />
      <div className="grid-2">
        <Coming title="Gift catalogue">
          The room&apos;s real gifts, with pictures and coin costs, to drag onto actions.
        </Coming>
        <Coming title="Actions">
          Minecraft commands and sound effects, with live previews of what each gift will run.
        </Coming>
      </div>
    </>
  );
}
