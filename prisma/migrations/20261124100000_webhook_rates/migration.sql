-- CreateTable
CREATE TABLE "webhook_rates" (
    "key" TEXT NOT NULL,
    "tat_ms" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "webhook_rates_pkey" PRIMARY KEY ("key")
);
