/* The output tiles of Winograd F(m x m, 3x3), shared by conv_winograd.cl and
 * conv_winograd_weights.cl: tile t = (b*tp + ty)*tq + tx covers outputs
 * m*ty.. and m*tx.. of image b (tp = ceil(P/m), tq = ceil(Q/m)). */
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
