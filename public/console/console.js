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
