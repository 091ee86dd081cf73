import { MemoryStore } from "../../src/store/memory-store.js";
import { describeStoreConformance } from "./conformance.js";

describeStoreConformance("memory", async () => {
  const store = new MemoryStore();
  return { store, dispose: () => store.close() };
});
