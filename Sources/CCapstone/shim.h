// Capstone 4 (Debian libcapstone-dev) with small accessors for the x86 detail union and operand
// array, which Swift would otherwise see as anonymous unions and fixed-size tuples.
#include <capstone/capstone.h>

/// Number of x86 operands of a decoded instruction (0 when detail is off).
static inline int callscope_x86_op_count(const cs_insn *insn) {
  return insn->detail ? insn->detail->x86.op_count : 0;
}

/// The i-th x86 operand (i < callscope_x86_op_count).
static inline const cs_x86_op *callscope_x86_op(const cs_insn *insn, int i) {
  return &insn->detail->x86.operands[i];
}

/// The REP/REPNE/LOCK prefix byte (0 when absent).
static inline uint8_t callscope_x86_prefix0(const cs_insn *insn) {
  return insn->detail ? insn->detail->x86.prefix[0] : 0;
}

/// Whether the instruction belongs to a Capstone group (CS_GRP_CALL, CS_GRP_JUMP, CS_GRP_RET …).
static inline int callscope_in_group(const cs_insn *insn, uint8_t group) {
  if (!insn->detail) return 0;
  for (int i = 0; i < insn->detail->groups_count; i++) {
    if (insn->detail->groups[i] == group) return 1;
  }
  return 0;
}

static inline x86_op_type callscope_op_type(const cs_x86_op *op) { return op->type; }
static inline int64_t callscope_op_imm(const cs_x86_op *op) { return op->imm; }
static inline x86_reg callscope_op_reg(const cs_x86_op *op) { return op->reg; }
static inline x86_reg callscope_op_mem_base(const cs_x86_op *op) { return op->mem.base; }
static inline x86_reg callscope_op_mem_index(const cs_x86_op *op) { return op->mem.index; }
static inline x86_reg callscope_op_mem_segment(const cs_x86_op *op) { return op->mem.segment; }
static inline int64_t callscope_op_mem_disp(const cs_x86_op *op) { return op->mem.disp; }
static inline uint8_t callscope_op_size(const cs_x86_op *op) { return op->size; }
static inline uint8_t callscope_op_access(const cs_x86_op *op) { return op->access; }
