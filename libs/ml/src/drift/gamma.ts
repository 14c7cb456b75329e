/**
 * The regularised upper incomplete gamma function Q(a, x) and the χ² survival function, under
 * the drift monitor's names: one implementation, in `tabular/gamma.ts` (series for P when
 * x < a + 1, Legendre's continued fraction for Q otherwise, and a Stirling-based prefactor for
 * a ≥ 10 that keeps ~1e-13 relative up to dof 3·10⁶ and p-values down to 1e-300).
 */
export {
  regularizedGammaQ as upperGammaRegularized,
  chi2Survival as chiSquareSurvival,
} from '../tabular/gamma';
