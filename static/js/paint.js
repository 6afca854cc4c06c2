// Looks a stylesheet cannot know in advance: a photo's aspect ratio, its dominant colour and
// its blurred placeholder. The Content-Security-Policy refuses style attributes in the HTML,
// so the server writes these as data attributes and this sets them through the CSSOM, which
// the policy allows. Without JS the image's width and height still reserve its box.
const PLACEHOLDER = /^data:image\/png;base64,[A-Za-z0-9+/=]+$/;
const RATIO = /^\d+ \/ \d+$/;

export function paint(element) {
  const { ratio, color, placeholder } = element.dataset;
  if (ratio && RATIO.test(ratio)) element.style.aspectRatio = ratio;
  if (color) element.style.backgroundColor = color; // an invalid colour is simply ignored
  if (placeholder && PLACEHOLDER.test(placeholder)) {
    element.style.backgroundImage = `url("${placeholder}")`;
  }
}
