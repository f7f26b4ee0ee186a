/* {{name}}: an agentbox command in C: a program with main.
 * Build: agentbox build .   Run: agentbox run agentbox.toml -- Ada */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello, %s!\n", argc > 1 ? argv[1] : "world");
    return 0;
}
