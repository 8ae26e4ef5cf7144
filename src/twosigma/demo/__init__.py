"""`twosigma demo seed`: a realistic, deterministic demo data set written with COPY."""
