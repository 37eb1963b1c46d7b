// Chromium shapes text that appears while the Japanese web font (coordkit-fonts.css) is still loading
// with a fallback font that has no Japanese glyphs (empty boxes), and keeps that shaping after the font
// has arrived. Once the font is loaded, a changed text-rendering (see the CSS) makes it shape the text again.
(() => {
  const FAMILY = "coordkit IPAexGothic";
  const reshape = () => document.documentElement.classList.add("coordkit-ja-font-loaded");
  const loaded = (faces) => faces.some((face) => face.family.replace(/"/g, "") === FAMILY && face.status === "loaded");
  if (loaded([...document.fonts])) reshape();
  document.fonts.addEventListener("loadingdone", (event) => { if (loaded(event.fontfaces)) reshape(); });
})();
