/* A plugin found only through its loader's RUNPATH ($ORIGIN/plugins). */
int plug_answer(void);
int plug_answer(void) { return 42; }
