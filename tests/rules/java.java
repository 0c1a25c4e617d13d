class Example {
    void run(String cmd, String name) throws Exception {
        // ruleid: java-runtime-exec
        Runtime.getRuntime().exec(cmd);
        // ok: java-runtime-exec
        Runtime.getRuntime().availableProcessors();
        // ruleid: java-string-equals-literal
        if (name == "admin") { }
        // ok: java-string-equals-literal
        if (name.equals("admin")) { }
        // ruleid: java-catch-exception
        try {
            work();
        } catch (Exception e) {
            // ruleid: java-print-stack
            e.printStackTrace();
        }
        // ok: java-catch-exception
        try {
            work();
        } catch (IllegalStateException e) {
            log(e);
        }
    }

    void debug(Exception e) {
        // ok: java-print-stack
        e.printStackTrace();
    }
}
