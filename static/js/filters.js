/* The list page's filters, applied as they change (practices/practice_list.html).

   Without this script the form's "Apply filters" button does it all with a page
   load. With it, ticking a box or choosing a sort fetches that same page and
   swaps in its parts marked data-refresh: focus stays on the control that was
   used, and the new count is announced (#results-status, role="status"). The
   button (or Enter in the search box) does the same and then moves focus to the
   results, closing the filter panel on a narrow screen. The address follows
   (history), so the page can be shared, reloaded or left with Back.

   A static file rather than an inline script: the content security policy allows
   only this site's scripts, and a page with a nonce could not be cached. */
(() => {
  "use strict";
  if (!document.getElementById("filters") || !window.fetch || !window.CSS) return;

  const NARROW = "(width <= 40rem)"; // as in site.css
  let request = null;
  let shown = location.search; // the query the page now shows

  // The form's query as a page load would send it, without empty fields.
  function addressOf(form) {
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (value !== "") query.append(name, value);
    }
    const search = query.toString();
    return form.action.split("?")[0] + (search ? `?${search}` : "");
  }

  // How to find a control again in the new page: a checkbox by its name and
  // value (its id follows its place, which changes with the counts), anything
  // else by its id.
  function selectorFor(element) {
    if (!element || !element.closest("[data-refresh]")) return null;
    if (element.type === "checkbox") {
      return `input[name="${CSS.escape(element.name)}"][value="${CSS.escape(element.value)}"]`;
    }
    return element.id ? `#${CSS.escape(element.id)}` : null;
  }

  function announce(text) {
    const status = document.getElementById("results-status");
    status.textContent = "";
    // A moment later, so the same words twice are still read out.
    requestAnimationFrame(() => { status.textContent = text; });
  }

  async function refresh(url, { push = true, toResults = false } = {}) {
    request?.abort();
    request = new AbortController();
    document.getElementById("results")?.setAttribute("aria-busy", "true");
    let page;
    try {
      const response = await fetch(url, { signal: request.signal });
      // 400 is a page too: it says which filter value is wrong.
      if (!response.ok && response.status !== 400) throw new Error(response.statusText);
      page = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (error) {
      if (error.name !== "AbortError") location.assign(url); // as without script
      return;
    }
    const focused = selectorFor(document.activeElement);
    const opened = [...document.querySelectorAll("[data-refresh] details[open][id]")];
    for (const old of document.querySelectorAll("[data-refresh][id]")) {
      const fresh = page.getElementById(old.id);
      if (fresh) old.replaceWith(document.importNode(fresh, true));
    }
    for (const { id } of opened) document.getElementById(id)?.setAttribute("open", "");
    document.title = page.title;
    if (push) history.pushState(null, "", url);
    shown = location.search;

    const heading = document.getElementById("results-heading");
    if (toResults) {
      if (matchMedia(NARROW).matches) document.getElementById("filter-panel").open = false;
      heading.focus(); // read out as focus lands: no announcement as well
      return;
    }
    const control = focused && document.querySelector(focused);
    if (control) {
      // An unticked option may have moved behind "Show all N": open it.
      control.closest(".facet-more:not([open])")?.setAttribute("open", "");
      control.focus();
    }
    announce(heading.textContent.replace(/\s+/g, " ").trim());
  }

  document.addEventListener("change", (event) => {
    const control = event.target;
    if (control.form?.id === "filters" && control.matches("input[type=checkbox], select")) {
      refresh(addressOf(control.form));
    }
  });
  document.addEventListener("submit", (event) => {
    if (event.target.id !== "filters") return;
    event.preventDefault();
    refresh(addressOf(event.target), { toResults: true });
  });
  // Back and Forward between the states this script made (not between anchors).
  window.addEventListener("popstate", () => {
    if (location.search !== shown) refresh(location.href, { push: false });
  });
})();
