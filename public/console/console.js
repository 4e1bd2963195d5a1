// The console's few client behaviours, as Alpine components: Alpine's CSP build evaluates no
// expressions, so each x-data names a component registered here. Loaded before Alpine itself.
document.addEventListener("alpine:init", () => {
  // A button that shows and hides the element it controls (aria-expanded follows).
  // It starts open when its element says data-open="true" (a form sent back with an error).
  window.Alpine.data("disclosure", () => ({
    open: false,
    init() {
      this.open = this.$el.dataset.open === "true";
    },
    toggle() {
      this.open = !this.open;
    },
    get expanded() {
      return this.open ? "true" : "false";
    },
  }));
});

// A live auction (src/console/pages/auctions.ts): the page's numbers, then every frame of the
// public live socket. Each `bid` frame may move the end (soft close); the countdown follows it.
document.addEventListener("alpine:init", () => {
  window.Alpine.data("auctionLive", () => ({
    status: "",
    price: "",
    leader: "",
    bids: "",
    minimum: "",
    countdown: "",
    outbid: false,
    init() {
      const d = this.$el.dataset;
      this.money = new Intl.NumberFormat("en", { style: "currency", currency: d.currency });
      this.unit = 10 ** (this.money.resolvedOptions().maximumFractionDigits ?? 2);
      this.apply({
        status: d.status,
        priceMinor: Number(d.priceMinor),
        leaderAlias: d.leader || null,
        bidCount: Number(d.bids),
        minimumNextBidMinor: Number(d.minimum),
        endsAt: d.endsAt,
      });
      this.timer = setInterval(() => this.tick(), 1000);
      this.connect(d.auctionId);
    },
    destroy() {
      clearInterval(this.timer);
      this.stopped = true;
      this.socket?.close();
    },
    connect(id) {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${location.host}/v1/auctions/${id}/live`);
      this.socket = socket;
      socket.addEventListener("open", () => {
        this.$el.dataset.connected = "true";
      });
      socket.addEventListener("message", (event) => {
        const data = JSON.parse(event.data);
        for (const frame of Array.isArray(data) ? data : [data]) this.onFrame(frame);
      });
      socket.addEventListener("close", () => {
        this.$el.dataset.connected = "false";
        if (!this.stopped && !this.over()) setTimeout(() => this.connect(id), 2000);
      });
    },
    onFrame(f) {
      if (f.type === "snapshot") this.apply(f.auction);
      else if (f.type === "bid") {
        this.apply({
          priceMinor: f.priceMinor,
          leaderAlias: f.leader,
          bidCount: f.bidCount,
          minimumNextBidMinor: f.minimumNextBidMinor,
          endsAt: f.endsAt,
        });
      } else if (f.type === "extended") this.apply({ endsAt: f.endsAt });
      else if (f.type === "started") this.apply({ status: "active", endsAt: f.endsAt });
      else if (f.type === "closed") {
        this.apply({ status: f.status, priceMinor: f.priceMinor, bidCount: f.bidCount });
      }
    },
    apply(s) {
      if (s.status !== undefined) this.status = s.status;
      if (s.priceMinor !== undefined) this.price = this.money.format(s.priceMinor / this.unit);
      if (s.leaderAlias !== undefined) this.leader = s.leaderAlias ?? "no bids yet";
      if (s.bidCount !== undefined) this.bids = String(s.bidCount);
      if (s.minimumNextBidMinor !== undefined) {
        this.minimum = this.money.format(s.minimumNextBidMinor / this.unit);
      }
      if (s.endsAt !== undefined) this.endsAt = Date.parse(s.endsAt);
      // The bid form names this viewer's alias once they bid: someone else leading is an outbid.
      const mine = document.querySelector("[data-my-alias]")?.dataset.myAlias;
      if (mine && s.leaderAlias) this.outbid = s.leaderAlias !== mine;
      this.tick();
    },
    over() {
      return /^(ended|bought|cancel)/.test(this.status);
    },
    tick() {
      const left = Math.max(0, Math.round((this.endsAt - Date.now()) / 1000));
      if (left === 0 || this.over()) {
        this.countdown = "ended";
        return;
      }
      const m = Math.floor(left / 60);
      this.countdown = m > 0 ? `${m} min ${left % 60} s left` : `${left} s left`;
    },
  }));
});

// Charts (uPlot, loaded by the pages that have one): the data is a JSON script beside the chart.
document.addEventListener("DOMContentLoaded", () => {
  const colours = ["#0a58ca", "#b42318", "#116329", "#6a4a00", "#6f42c1"];
  for (const el of document.querySelectorAll('[data-chart="stock-history"]')) {
    const source = document.getElementById("stock-history-data");
    if (!source || !window.uPlot) continue;
    const { xs, series } = JSON.parse(source.textContent);
    const width = Math.max(280, el.clientWidth);
    const chart = new window.uPlot(
      {
        width,
        height: 260,
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: colours[i % colours.length],
            width: 2,
            spanGaps: true,
          })),
        ],
        axes: [{}, { label: "On hand" }],
      },
      [xs, ...series.map((s) => s.values)],
      el,
    );
    el.dataset.drawn = "true";
    new ResizeObserver(() =>
      chart.setSize({ width: Math.max(280, el.clientWidth), height: 260 }),
    ).observe(el);
  }
});
