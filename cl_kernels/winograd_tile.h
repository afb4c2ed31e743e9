/* The tiles of Winograd F(2x2, 3x3), shared by conv_winograd.cl and
 * conv_winograd_weights.cl: tile t = (b*tp + ty)*tq + tx covers outputs
 * 2ty.. and 2tx.. of image b (tp = ceil(P/2), tq = ceil(Q/2)). */
#ifndef ANYCL_WINOGRAD_TILE_H
#define ANYCL_WINOGRAD_TILE_H

/* Tile t's image b, tile row ty and tile column tx: t = (b*tp + ty)*tq + tx. */
static inline void tile_at(const int t, const int tp, const int tq, int *b, int *ty, int *tx)
{
    *b = t / (tp * tq);
    *ty = (t - *b * tp * tq) / tq;
    *tx = t - (*b * tp + *ty) * tq;
}

#endif /* ANYCL_WINOGRAD_TILE_H */
