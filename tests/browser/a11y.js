// Axe-style basic accessibility checks, run in the page by tests/browser/test_accessibility.py (nothing downloaded):
//   label     every visible input, select and textarea has an accessible name (a <label>, aria-label(ledby),
//             title or placeholder: axe's "label" rule)
//   alt       every <img> has an alt attribute (alt="" marks a decorative one)
//   contrast  text against its effective background: at least 4.5:1 (3:1 for large text: 24 px, or 18.66 px bold)
//   boundary  a visible text field, select or textarea has a border or a background that sets it apart
// Colours are read through a canvas, so any CSS colour syntax (rgb, oklch, color-mix...) is compared as sRGB.
() => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgba(0,0,0,0)";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const ratio = (x, y) => {
    const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none" && parseFloat(style.opacity) > 0;
  };
  // the background the element is painted on: its own and its ancestors' colours, composited; null when an
  // image or gradient lies under it (not judged)
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== "none") return null;
      const colour = rgba(style.backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const describe = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += "#" + el.id;
    if (el.name) text += `[name=${el.name}]`;
    const cls = (el.getAttribute("class") || "").split(/\s+/).filter(Boolean).slice(0, 3).join(".");
    if (cls && !el.id) text += "." + cls;
    return text;
  };
  const problems = [];

  // label
  const fields = document.querySelectorAll("input, select, textarea");
  for (const el of fields) {
    const type = (el.getAttribute("type") || "text").toLowerCase();
    if (["hidden", "submit", "button", "reset", "image"].includes(type) || !visible(el)) continue;
    const labelled =
      (el.getAttribute("aria-label") || "").trim() ||
      (el.getAttribute("aria-labelledby") || "")
        .split(/\s+/)
        .some((id) => id && document.getElementById(id)?.textContent.trim()) ||
      [...(el.labels || [])].some((label) => label.textContent.trim() || label.querySelector("img[alt]")) ||
      (el.getAttribute("title") || "").trim() ||
      (el.getAttribute("placeholder") || "").trim();
    if (!labelled) problems.push(`label: ${describe(el)} has no label`);
  }

  // alt
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`alt: ${describe(img)} (${img.getAttribute("src")}) has no alt`);
  }

  // contrast
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim()) continue;
    seen.add(el);
    if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "OPTION"].includes(el.tagName) || !visible(el)) continue;
    if (el.closest("[disabled], [aria-disabled=true], [aria-hidden=true]")) continue;
    // icon-font ligatures (unfold's Material Symbols) are pictures, not text: judged as images are, by alt
    if (el.closest(".material-symbols-outlined")) continue;
    const style = getComputedStyle(el);
    const bg = background(el);
    if (!bg) continue;
    const fg = over(rgba(style.color), bg);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(style.fontWeight, 10) >= 700);
    const needed = large ? 3 : 4.5;
    const got = ratio(fg, bg);
    if (got < needed) {
      const text = node.textContent.trim().replace(/\s+/g, " ").slice(0, 40);
      problems.push(`contrast: ${describe(el)} "${text}" ${(Math.floor(got * 100) / 100).toFixed(2)}:1 < ${needed}:1 (${style.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`);
    }
  }

  // boundary
  for (const el of fields) {
    const type = (el.getAttribute("type") || "text").toLowerCase();
    if (["hidden", "submit", "button", "reset", "image", "checkbox", "radio", "file", "color"].includes(type)) continue;
    if (!visible(el)) continue;
    const parentBg = background(el.parentElement) || [255, 255, 255, 1];
    const own = background(el) || parentBg;
    const sides = ["Top", "Right", "Bottom", "Left"];
    const outlined = (box) => {
      const boxStyle = getComputedStyle(box);
      const under = background(box.parentElement) || [255, 255, 255, 1];
      return sides.some(
        (side) =>
          parseFloat(boxStyle[`border${side}Width`]) > 0 &&
          boxStyle[`border${side}Style`] !== "none" &&
          ratio(over(rgba(boxStyle[`border${side}Color`]), under), under) > 1.1
      );
    };
    // the field itself, or a box drawn tightly around it (unfold's search bar and its two-list selector draw
    // the border on a wrapper)
    const own_rect = el.getBoundingClientRect();
    let bordered = outlined(el);
    for (let box = el.parentElement, depth = 0; !bordered && box && depth < 4; box = box.parentElement, depth++) {
      const rect = box.getBoundingClientRect();
      if (rect.width > own_rect.width + 120 || rect.height > own_rect.height + 400) break;
      bordered = outlined(box);
    }
    const filled = ratio(own, parentBg) > 1.1;
    if (!bordered && !filled) problems.push(`boundary: ${describe(el)} has no visible border or fill`);
  }
  return problems;
}
