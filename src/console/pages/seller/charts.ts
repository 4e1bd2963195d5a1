import { Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../../../http/context.ts";
import type { Html } from "../../layout.ts";
import { jsonScript } from "./shell.ts";

/** Where the seller pages' chart script is served (same origin: the CSP's script-src 'self'). */
export const CHARTS_SCRIPT = "/console/seller/charts.js";

/**
 * Draws every `[data-seller-chart]` with uPlot (loaded by the page's `charts` option, deferred
 * before this script, so it runs after it): its data is the JSON script the element names. A
 * series is a line; a band fills between two series (a forecast's interval). The element says
 * `data-drawn="true"` once drawn, for the tests.
 */
const SCRIPT = `"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var colours = ["#0a58ca", "#b42318", "#116329", "#6a4a00", "#6f42c1"];
  var els = document.querySelectorAll("[data-seller-chart]");
  for (var i = 0; i < els.length; i++) draw(els[i]);
  function draw(el) {
    var source = document.getElementById(el.dataset.sellerChart);
    if (!source || !window.uPlot) return;
    var spec = JSON.parse(source.textContent);
    var series = [{}];
    var data = [spec.xs];
    spec.series.forEach(function (s, n) {
      series.push({
        label: s.label,
        stroke: s.band ? "transparent" : colours[n % colours.length],
        width: s.band ? 0 : 2,
        points: { show: !s.band && spec.xs.length < 40 },
        spanGaps: true,
      });
      data.push(s.values);
    });
    var bands = (spec.bands || []).map(function (b) {
      return { series: [b.upper + 1, b.lower + 1], fill: b.fill };
    });
    var size = function () {
      return { width: Math.max(280, el.clientWidth), height: 220 };
    };
    var opts = size();
    opts.series = series;
    opts.bands = bands;
    opts.axes = [{}, { label: spec.yLabel, size: 60 }];
    var chart = new window.uPlot(opts, data, el);
    el.dataset.drawn = "true";
    new ResizeObserver(function () {
      chart.setSize(size());
    }).observe(el);
  }
});
`;

/** `GET /console/seller/charts.js`: the script above, cached a day. */
export const chartScript = new Hono<AppEnv>().get("/seller/charts.js", (c) =>
  c.body(SCRIPT, 200, {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "private, max-age=86400",
  }),
);

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** Only the edge of a band: drawn as a fill, no line. */
  band?: boolean;
}

export interface ChartSpec {
  /** x: seconds since the epoch. */
  xs: number[];
  series: ChartSeries[];
  /** Fills between two series, by index into `series`. */
  bands?: Array<{ upper: number; lower: number; fill: string }>;
  yLabel: string;
}

/** Seconds since the epoch of a UTC day. */
export function dayX(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000);
}

/**
 * A chart as a figure: the uPlot target (an image to assistive technology, named by its
 * caption's text) and its data; the page lists the same numbers in a table beside it.
 */
export function chartFigure(id: string, caption: string, spec: ChartSpec): Html {
  return html`<figure class="card chart-card">
  <figcaption id="${id}-caption">${caption}</figcaption>
  <div class="chart" id="${id}" data-seller-chart="${id}-data" role="img" aria-labelledby="${id}-caption"></div>
  ${jsonScript(`${id}-data`, spec)}
</figure>`;
}

/** The script tag every page with a chart adds at the end of its body. */
export const chartScriptTag: Html = html`<script src="${CHARTS_SCRIPT}" defer></script>`;
