import { Coming } from "../../shared/Coming";
import { ViewHeader } from "../../shared/ViewHeader";

export function QueueView() {
  return (
    <>
      <ViewHeader title="Queue" subtitle="Every triggered action, in order, paced per lane." />
      <Coming title="Lanes">
        Minecraft and sound lanes with pause, skip, clear and a panic button.
      </Coming>
    </>
  );
}
