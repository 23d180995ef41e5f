// The dashboard's charts: drawn with ECharts from the JSON the page embeds (#dashboard-data),
// and again after htmx swaps the figures in (a filter changed). A click on a bar or a point opens
// the list behind it. No inline scripts: the content security policy forbids them; tooltips are
// drawn on the canvas for the same reason (no inline styles).
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") { return; }
  var echarts = window.echarts;
  // The page keeps no copy in htmx's history cache (hx-history="false": the figures are not left
  // in session storage, and a copy would bring back the charts' inline styles, which the policy
  // blocks, and run the page's scripts twice). Back and forward load the address afresh.
  if (window.htmx) { window.htmx.config.refreshOnHistoryMiss = true; }

  function dashboard() { return document.getElementById("dashboard"); }

  function chartElements() {
    var root = dashboard();
    return root ? Array.prototype.slice.call(root.querySelectorAll("[data-chart]")) : [];
  }

  function valueAxis(spec) {
    return {
      type: "value",
      name: spec.unit,
      minInterval: spec.unit === "%" ? 0 : 1,
      max: spec.unit === "%" ? 100 : null,
      axisLabel: { formatter: spec.unit === "%" ? "{value}%" : "{value}" }
    };
  }

  function categoryAxis(spec) {
    return {
      type: "category",
      data: spec.categories,
      inverse: spec.horizontal,
      axisLabel: { interval: 0, hideOverlap: true }
    };
  }

  function series(spec, item) {
    var drawn = { name: item.name, data: item.data, cursor: "pointer" };
    if (item.kind === "line") {
      drawn.type = "line";
      drawn.symbolSize = 8;
      drawn.label = { show: true, formatter: "{c}%" };
    } else if (item.kind === "target") {
      drawn.type = "scatter";
      drawn.symbol = "rect";
      drawn.symbolSize = spec.horizontal ? [4, 28] : [28, 4];
      drawn.z = 5;
      drawn.itemStyle = { color: "#dc3545" };
    } else {
      drawn.type = "bar";
      drawn.barMaxWidth = 32;
      drawn.label = { show: true, position: spec.horizontal ? "right" : "top" };
    }
    return drawn;
  }

  function option(spec) {
    var several = spec.series.length > 1;
    return {
      animationDuration: 300,
      tooltip: { trigger: "axis", renderMode: "richText", axisPointer: { type: "shadow" } },
      legend: { show: several, top: 0 },
      grid: { left: 8, right: 32, top: several ? 44 : 32, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? valueAxis(spec) : categoryAxis(spec),
      yAxis: spec.horizontal ? categoryAxis(spec) : valueAxis(spec),
      series: spec.series.map(function (item) { return series(spec, item); })
    };
  }

  function open(params) {
    var href = params.data && params.data.href;
    if (href) { window.location.assign(href); }
  }

  function dispose() {
    chartElements().forEach(function (element) {
      var chart = echarts.getInstanceByDom(element);
      if (chart) { chart.dispose(); }
    });
  }

  function draw() {
    var root = dashboard();
    var holder = document.getElementById("dashboard-data");
    if (!root || !holder) { return; }
    var data = JSON.parse(holder.textContent);
    root.classList.add("has-charts");
    var toggle = root.querySelector("[data-dashboard-tables]");
    if (toggle) { toggle.hidden = false; }
    chartElements().forEach(function (element) {
      var spec = data.charts[element.getAttribute("data-chart")];
      var old = echarts.getInstanceByDom(element);
      if (old) { old.dispose(); }
      if (!spec) { return; }
      var chart = echarts.init(element);
      chart.setOption(option(spec));
      chart.on("click", open);
    });
  }

  // The 表格 button shows the tables under the charts (they are always there without JavaScript).
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-dashboard-tables]");
    var root = dashboard();
    if (!toggle || !root) { return; }
    var shown = root.classList.toggle("show-tables");
    toggle.setAttribute("aria-pressed", shown ? "true" : "false");
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dashboard-figures") { dispose(); }
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "dashboard-figures") { draw(); }
  });

  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () {
      chartElements().forEach(function (element) {
        var chart = echarts.getInstanceByDom(element);
        if (chart) { chart.resize(); }
      });
    }, 150);
  });

  draw();
})();
