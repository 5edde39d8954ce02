/**
 * @xlens/cam — the class activation map family: CAM, Grad-CAM, Guided Grad-CAM, Grad-CAM++,
 * Smooth Grad-CAM++, Score-CAM, Layer-CAM, XGrad-CAM, HiResCAM, Eigen-CAM, Ablation-CAM, CLEAR and
 * CCAM. Nothing registers itself: add `camMethods` to a core `Registry`.
 */
import { ablationCam } from './ablation-cam.js';
import { cam } from './cam.js';
import { ccam } from './ccam.js';
import { clear } from './clear.js';
import { eigenCam } from './eigen-cam.js';
import { gradCam } from './grad-cam.js';
import { gradCamPlusPlus } from './grad-cam-plus-plus.js';
import { guidedGradCam } from './guided-grad-cam.js';
import { hiResCam } from './hires-cam.js';
import { layerCam } from './layer-cam.js';
import { scoreCam } from './score-cam.js';
import { smoothGradCamPlusPlus } from './smooth-grad-cam-plus-plus.js';
import { xGradCam } from './xgrad-cam.js';

export { type AblationCamOptions, ablationCam } from './ablation-cam.js';
export { type CamOptions, cam, findGapDenseHead, type GapDenseHead } from './cam.js';
export { type CcamOptions, ccam } from './ccam.js';
export { type ClearOptions, clear, dominantClassMap } from './clear.js';
export { type EigenCamOptions, eigenCam, firstComponentMaps } from './eigen-cam.js';
export { type GradCamOptions, gradCam, gradCamWeights } from './grad-cam.js';
export {
  type GradCamPlusPlusOptions,
  gradCamPlusPlus,
  gradCamPlusPlusWeights,
} from './grad-cam-plus-plus.js';
export { type GuidedGradCamOptions, guidedGradCam, multiplyByPixelMap } from './guided-grad-cam.js';
export { type HiResCamOptions, hiResCam } from './hires-cam.js';
export { fuseMaps } from './internal/combine.js';
export { type CamCommonOptions, type CamLayerOptions, targetLayers } from './internal/layers.js';
export { type LayerCamOptions, layerCam } from './layer-cam.js';
export { type ScoreCamOptions, scoreCam } from './score-cam.js';
export { type SmoothGradCamPlusPlusOptions, smoothGradCamPlusPlus } from './smooth-grad-cam-plus-plus.js';
export { type XGradCamOptions, xGradCam, xGradCamWeights } from './xgrad-cam.js';

/** Every CAM method, in catalogue order, for a core `Registry`. */
export const camMethods = [
  cam,
  gradCam,
  guidedGradCam,
  gradCamPlusPlus,
  smoothGradCamPlusPlus,
  scoreCam,
  layerCam,
  xGradCam,
  hiResCam,
  eigenCam,
  ablationCam,
  clear,
  ccam,
] as const;
