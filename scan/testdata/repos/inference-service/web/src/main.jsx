import React from "react";
import { createRoot } from "react-dom/client";
import debounce from "lodash/debounce";

function App() {
  const [q, setQ] = React.useState("");
  const search = React.useMemo(() => debounce((v) => fetch(`/admin/tickets?q=${encodeURIComponent(v)}`), 300), []);
  return <input value={q} onChange={(e) => { setQ(e.target.value); search(e.target.value); }} />;
}

createRoot(document.getElementById("root")).render(<App />);
