// The console's few client behaviours, as Alpine components: Alpine's CSP build evaluates no
// expressions, so each x-data names a component registered here. Loaded before Alpine itself.
document.addEventListener("alpine:init", () => {
  // A button that shows and hides the element it controls (aria-expanded follows).
  window.Alpine.data("disclosure", () => ({
    open: false,
    toggle() {
      this.open = !this.open;
    },
    get expanded() {
      return this.open ? "true" : "false";
    },
  }));
});
