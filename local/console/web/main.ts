/** The console's front end: picks the page from the URL and mounts it. */
import "./style.css";
import { h, replaceChildren } from "./dom";
import { executionPage } from "./pages/execution";
import { overviewPage } from "./pages/overview";
import { stateMachinePage } from "./pages/stateMachine";

function mount(): void {
  const app = document.getElementById("app")!;
  const main = h("main", { class: "page" });
  replaceChildren(
    app,
    h(
      "nav",
      { class: "topbar" },
      h("a", { href: "/", class: "brand" }, h("span", { class: "logo" }, "◆"), " Local Step Functions"),
      h("span", { class: "muted small" }, location.host),
    ),
    main,
  );
  const path = location.pathname;
  const machine = /^\/console\/state-machines\/([^/]+)$/.exec(path);
  const execution = /^\/console\/executions\/([^/]+)$/.exec(path);
  if (machine) stateMachinePage(main, decodeURIComponent(machine[1]));
  else if (execution) executionPage(main, decodeURIComponent(execution[1]));
  else overviewPage(main);
}

mount();
